"""Small fixes and additions to the website, as a local Sphinx extension.

- Readers get the theme in their system's light or dark mode (the theme's
  ``default_mode`` is otherwise empty, which its script reports as an error).
- sphinx-thebe registers its configuration script twice; the second copy
  redeclares a constant and throws in every page. Each page keeps one copy.
- ``course.css``: wide content scrolls inside itself at phone width.
"""

from __future__ import annotations


def default_to_system_mode(app, pagename, templatename, context, doctree) -> None:
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def without_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # Same file (or inline body) and attributes: a duplicate, whatever its priority.
        filename = getattr(script, "filename", str(script)) or ""  # an inline script has None or ""
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: it is the builder's own list, and other handlers still add to it.
    context["script_files"][:] = unique


def setup(app):
    app.connect("html-page-context", default_to_system_mode)
    # Last, after every other extension has added its scripts for the page.
    app.connect("html-page-context", without_duplicate_scripts, priority=900)
    app.add_css_file("course.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
