"""What the pages show: tables, figures, pictures, sentences, and user text made safe to show."""
