"""tritune code generator: renders kernel variants from Jinja2 templates."""
