"""Do solutions and hidden tests stay out of everything a learner receives?"""

from __future__ import annotations

import pytest

from autograder.leaks import find_leaks, secrets, text_files
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

    from autograder.links import wheel_name

    with zipfile.ZipFile(built_site / wheel_name(ROOT)) as wheel:
        wheel.extractall(tmp_path)
    assert (tmp_path / "rnnlab" / "checks.py").is_file()
    leaks = find_leaks(text_files(tmp_path), secrets(source_notebook(slug)))
    assert not leaks, "\n".join(f"{leak.path.relative_to(tmp_path)}: {leak.what}" for leak in leaks)
