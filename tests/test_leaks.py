"""Do solutions and hidden tests stay out of everything a learner receives?"""

from __future__ import annotations

import ast
import json

import pytest

from autograder.course.leaks import find_leaks, secrets, text_files
from autograder.paths import ROOT, SLUGS, release_notebook, source_notebook


@pytest.mark.parametrize("slug", SLUGS)
def test_does_the_source_have_solutions_and_hidden_tests_to_protect(slug):
    kinds = {s.kind for s in secrets(source_notebook(slug))}
    assert kinds == {"solution", "hidden test"}


@pytest.mark.parametrize("slug", SLUGS)
def test_are_solutions_and_hidden_tests_absent_from_the_released_notebook(slug):
    leaks = find_leaks([release_notebook(slug)], secrets(source_notebook(slug)))
    assert not leaks, "\n".join(f"{leak.path}: {leak.what}" for leak in leaks)


@pytest.mark.parametrize("slug", SLUGS)
def test_is_the_helper_package_free_of_solutions(slug):
    leaks = find_leaks(text_files(ROOT / "src" / "rnnlab"), secrets(source_notebook(slug)))
    assert not leaks, "\n".join(f"{leak.path}: {leak.what}" for leak in leaks)


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_is_the_built_site_free_of_solutions_and_hidden_tests(slug, built_site):
    leaks = find_leaks(text_files(built_site), secrets(source_notebook(slug)))
    assert not leaks, "\n".join(f"{leak.path.relative_to(built_site)}: {leak.what}" for leak in leaks)


def test_would_a_leak_hidden_by_syntax_highlighting_be_found(tmp_path):
    """The detector itself must work: a solution line split by highlighting spans is caught."""
    secret = next(s for s in secrets(source_notebook("rnn")) if s.kind == "solution" and "Wh.T" in s.line)
    left, right = secret.line.split("@", 1)
    page = tmp_path / "page.html"
    page.write_text(f'<pre><span class="n">{left}</span><span class="o">@</span>\n   <span>{right}</span></pre>')
    assert [leak.what for leak in find_leaks([page], [secret])] == [f"solution line {secret.line!r}"]


def test_would_a_released_notebook_with_a_hidden_block_be_caught(tmp_path):
    notebook = tmp_path / "rnn.ipynb"
    source = source_notebook("rnn").read_text(encoding="utf-8")
    notebook.write_text(source, encoding="utf-8")
    whats = {leak.what.split(" line ")[0] for leak in find_leaks([notebook], secrets(source_notebook("rnn")))}
    assert {"solution", "hidden test", "marker '### BEGIN HIDDEN TESTS'"} <= whats


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_is_the_wheel_the_site_serves_free_of_solutions_and_hidden_tests(slug, built_site, tmp_path):
    import zipfile

    from autograder.course.links import wheel_name

    with zipfile.ZipFile(built_site / wheel_name(ROOT)) as wheel:
        wheel.extractall(tmp_path)
    assert (tmp_path / "rnnlab" / "checks.py").is_file()
    leaks = find_leaks(text_files(tmp_path), secrets(source_notebook(slug)))
    assert not leaks, "\n".join(f"{leak.path.relative_to(tmp_path)}: {leak.what}" for leak in leaks)


# -- copies up to renaming ---------------------------------------------------------------

def _graded(slugs=SLUGS):
    from autograder.course.near_copies import graded_functions

    return [g for slug in slugs for g in graded_functions(source_notebook(slug))]


def _learner_code():
    """Every piece of code a learner receives: the chapters' cells (hidden ones too: they are in the
    page's download), the released notebooks, the helper package."""
    from autograder.course.near_copies import markdown_cells, notebook_cells, python_module

    candidates = [c for page in sorted((ROOT / "book").glob("*.md")) for c in markdown_cells(page)]
    candidates += [c for slug in SLUGS for c in notebook_cells(release_notebook(slug))]
    return candidates + [c for p in sorted((ROOT / "src" / "rnnlab").rglob("*.py")) for c in python_module(p)]


def test_is_no_graded_function_copied_with_other_names_into_what_learners_receive():
    from autograder.course.near_copies import find_near_copies

    copies = find_near_copies(_learner_code(), _graded())
    assert not copies, "\n".join(map(str, copies))


def test_would_the_renamed_losses_the_chapters_once_printed_be_caught():
    """char_rnn_loss with its layer swapped and its variables renamed shares no line with the
    solution, so the text comparison misses it; the structural one must not."""
    from autograder.course.leaks import find_leaks
    from autograder.course.near_copies import find_near_copies, python_module

    old = ROOT / "tests" / "fixtures" / "near_copies" / "old_chapter_losses.py"
    assert not find_leaks([old], secrets(source_notebook("bptt")))
    flagged = {(copy.where, copy.graded) for copy in find_near_copies(python_module(old), _graded(["bptt"]))}
    assert flagged == {("old_chapter_losses.py, char_lstm_loss()", "bptt: char_rnn_loss"),
                       ("old_chapter_losses.py, char_gru_loss()", "bptt: char_rnn_loss")}


class _RenameEverything(ast.NodeTransformer):
    """Give every name, attribute, keyword and parameter a new name, and change every number."""

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(f"renamed_{node.id}", node.ctx), node)

    def visit_Attribute(self, node):
        self.generic_visit(node)
        node.attr = f"other_{node.attr}"
        return node

    def visit_arg(self, node):
        node.arg = f"renamed_{node.arg}"
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return ast.copy_location(ast.Constant(node.value + 7), node)
        return node


@pytest.mark.parametrize("slug", SLUGS)
def test_is_every_graded_function_found_again_after_renaming_everything_in_it(slug):
    from autograder.course.near_copies import MIN_TOKENS, copied_share, graded_functions, units
    from autograder.course.reference import cell_source

    graded = {g.name: g for g in graded_functions(source_notebook(slug))}
    notebook = json.loads(source_notebook(slug).read_text(encoding="utf-8"))
    renamed = {}
    for cell in (c for c in notebook["cells"] if c["cell_type"] == "code"):
        for node in ast.parse(cell_source(cell)).body:
            if isinstance(node, ast.FunctionDef) and node.name in graded:
                node.name = f"my_{node.name}"
                renamed[node.name[3:]] = units(ast.parse(ast.unparse(_RenameEverything().visit(node))), "renamed")[0]
    assert set(renamed) == set(graded)
    for name, copy in renamed.items():
        if sum(map(len, graded[name].body)) >= MIN_TOKENS:
            assert copied_share(list(graded[name].body), list(copy.body)) == 1.0, name
