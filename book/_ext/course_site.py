"""Small fixes and additions to the website, as a local Sphinx extension.

- Readers get the theme in their system's light or dark mode (the theme's
  ``default_mode`` is otherwise empty, which its script reports as an error).
- sphinx-thebe registers its configuration script twice; the second copy
  redeclares a constant and throws in every page. Each page keeps one copy.
- ``course.css``: wide content scrolls inside itself at phone width.
- Launch buttons appear only for what _config.yml configures.
- Only the assignments are offered as notebooks. A chapter is executed with the course's
  reference implementations and tools, which no reader has (and which must not reach
  readers), so its page offers no source download and no launch button, only printing to
  PDF, and its source is not copied into the site (``_sources/book/``). Its figures' code
  that a reader can run is on the page; the assignments are downloaded as notebooks.
- Learners install the helper package ``rnnlab`` from the website alone: the
  build makes its wheel (from a copy of the sources, so nothing is written
  into the checkout) and serves it at the site's root. The role
  ``{rnnlab-wheel}`` links to it, and the directive ``{rnnlab-install}`` shows
  the one-line ``pip install``: of its URL when ``html.baseurl`` is set in
  _config.yml, of the downloaded file when it is not (autograder/links.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective, SphinxRole


def course_links(app):
    """autograder/course/links.py of the book being built (standard library only)."""
    root = str(Path(app.srcdir))
    if root not in sys.path:
        sys.path.insert(0, root)
    from autograder.course import links

    return links


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


class WheelRole(SphinxRole):
    """``{rnnlab-wheel}`text``: a link to the wheel the site serves at its root."""

    def run(self):
        links = course_links(self.env.app)
        name = links.wheel_name(Path(self.env.app.srcdir))
        uri = "../" * self.env.docname.count("/") + name
        return [nodes.reference(self.rawtext, self.text or name, refuri=uri)], []


class InstallDirective(SphinxDirective):
    """``{rnnlab-install}``: the one command that installs rnnlab on this site, as a code block.

    With the site's address known, ``pip install`` of the wheel's URL works from any folder.
    Without it, the command names the downloaded file, so the block says first where that
    file must be: a learner who runs it anywhere else gets "no such file".
    """

    def run(self):
        links = course_links(self.env.app)
        root = Path(self.env.app.srcdir)
        command = f"pip install {links.wheel_requirement(root)}"
        block = nodes.literal_block(command, command)
        block["language"] = "bash"
        if links.site_url(root):
            return [block]
        before = nodes.paragraph()
        before += nodes.Text("First download the wheel with the link above into your course folder (the one "
                             "made in step 1). Then, in that folder:")
        return [before, block]


def build_wheel(app, exception) -> None:
    """Build rnnlab's wheel into the website's root, from a scratch copy of its sources."""
    if exception is not None or app.builder.format != "html":
        return
    root = Path(app.srcdir)
    outdir = Path(app.outdir)
    for old in outdir.glob("rnnlab-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "rnnlab"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, copy / name)
        shutil.copytree(root / "src" / "rnnlab", copy / "src" / "rnnlab",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                                 "--disable-pip-version-check", "--quiet", "--wheel-dir", str(outdir), str(copy)],
                                capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ExtensionError(f"building the rnnlab wheel failed:\n{result.stdout}{result.stderr}")


def launch_only_what_is_configured(app, config) -> None:
    """Launch buttons need the course's repository (Binder, Colab and a JupyterHub all open the
    notebook from there): without repository.url in _config.yml the site shows none, rather
    than buttons to nowhere (the theme would otherwise fail on the empty URL)."""
    options = config.html_theme_options
    if not options.get("repository_url"):
        launch = options.setdefault("launch_buttons", {})
        for provider in ("binderhub_url", "jupyterhub_url", "colab_url", "jupyterlite_url"):
            launch[provider] = ""


#: Pages under these folders are chapters: read, not downloaded or launched as notebooks.
CHAPTER_FOLDERS = ("book/",)
#: The theme's header buttons that hand out or open a page's source.
SOURCE_BUTTONS = {"download-source-button", "download-notebook-button"}


def chapters_offer_no_source(app, pagename, templatename, context, doctree) -> None:
    """Keep a chapter's header to printing: no source download, no launch button."""
    if not pagename.startswith(CHAPTER_FOLDERS):
        return
    kept = []
    for button in context.get("header_buttons", []):
        if button.get("label") == "launch-buttons":
            continue
        if button.get("label") == "download-buttons":
            button = {**button, "buttons": [b for b in button.get("buttons", [])
                                            if b.get("label") not in SOURCE_BUTTONS]}
        kept.append(button)
    context["header_buttons"] = kept


def remove_chapter_sources(app, exception) -> None:
    """Sphinx copies every page's source into _sources/; a chapter's would show its hidden cells."""
    if exception is None and app.builder.format == "html":
        for folder in CHAPTER_FOLDERS:
            shutil.rmtree(Path(app.outdir) / "_sources" / folder, ignore_errors=True)


def setup(app):
    app.connect("config-inited", launch_only_what_is_configured)
    app.add_role("rnnlab-wheel", WheelRole())
    app.add_directive("rnnlab-install", InstallDirective)
    app.connect("build-finished", build_wheel)
    app.connect("html-page-context", default_to_system_mode)
    # After the theme's own header buttons (priority 501).
    app.connect("html-page-context", chapters_offer_no_source, priority=600)
    app.connect("build-finished", remove_chapter_sources)
    # Last, after every other extension has added its scripts for the page.
    app.connect("html-page-context", without_duplicate_scripts, priority=900)
    app.add_css_file("course.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
