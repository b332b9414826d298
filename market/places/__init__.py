"""Administrative units: the communes and wards (cấp xã) markets belong to."""
