"""What to run: sweep files, dotted paths into scenarios, and the points they expand to."""
