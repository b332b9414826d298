"""How-to pages: a guide for managers and helpers, and a one-page printable guide for merchants."""
