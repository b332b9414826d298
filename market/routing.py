"""URL converters shared by every blueprint."""

from werkzeug.routing import IntegerConverter

#: Database ids are 32-bit integers on PostgreSQL; a larger number in a URL matches no row.
MAX_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` limited to the ids a database row can have (1 … 2**31 - 1), so a URL
    with a larger number is a plain 404 instead of an out-of-range error from PostgreSQL."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)
