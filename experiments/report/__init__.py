"""What it means: analysis of a Result, its figures, and the HTML page."""
