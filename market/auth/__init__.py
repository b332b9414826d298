"""Users, roles, login and who may see and change what."""
