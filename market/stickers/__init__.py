"""Stall QR images, printable stickers and print kits, and the sticker audit."""
