"""Markets and their stalls: the registry market managers keep."""
