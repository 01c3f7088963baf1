"""Build the website: the one build that dev.py, the tests and the benchmark all run.

Standard library only at import, so that dev.py can call it before .venv exists: what needs
.venv (MyST-NB, jupyter-cache, nbclient, jupyter-book) is imported inside the functions that
:func:`build` runs with .venv's Python (``python -m tools.book``).

A cold build spends nearly all its time executing the chapters, and Sphinx (MyST-NB) executes
them one after another. So :func:`build` first executes, in parallel, every chapter that the
execution cache lacks, and puts each into that same cache exactly as MyST-NB would; Sphinx then
finds every chapter cached and executes none. A warm build finds nothing to execute, and an
edited chapter is the only one run again, as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tools.mathjax import ensure_mathjax
from autograder.engine.nbgrader_cli import environment
from autograder.paths import ROOT

#: Warnings are errors (-W), cross-references are checked strictly (-n), and
#: every problem is reported in one run (--keep-going) rather than the first alone.
STRICT = ("-W", "-n", "--keep-going")

#: The repository holding this file, from which ``python -m tools.book`` runs.
CODE = Path(__file__).resolve().parent.parent

#: Seconds each long chapter took to execute alone (benchmarks/bench.py on a shared 2-core
#: machine). Used only to start the longest chapters first when the cache holds no time of its
#: own for them (a cold build); a wrong or stale figure costs some speed, never correctness.
TYPICAL_SECONDS = {"book/seq2seq": 128, "book/lstm": 49, "book/gru": 48, "book/bptt": 40,
                   "book/long-range": 36, "book/bidirectional": 23}


def book_environment(scripts: Path | None = None) -> dict[str, str]:
    """The build's environment, without MPLBACKEND: the chapters run in Jupyter kernels,
    which must keep their inline backend, or every figure silently disappears."""
    env = environment(scripts)
    env.pop("MPLBACKEND", None)
    return env


def default_jobs() -> int:
    """How many chapters execute at once: one per core this process may use.

    Not more: each chapter keeps a core busy (seq2seq and long-range train in two processes of
    their own), so a third chapter on two cores only slows the others down."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def build(scripts: Path, path_output: Path | None = None, root: Path = ROOT, jobs: int | None = None,
          **run_options) -> subprocess.CompletedProcess:
    """Run ``jupyter-book build`` on the repository with the strict options, after executing in
    parallel the chapters missing from the execution cache (and after fetching MathJax, which the
    site serves itself, if it is missing).

    Both steps run in one process of .venv's Python (``python -m tools.book``, then jupyter-book's
    command line in that same process): the second finds MyST-NB, Sphinx and jupyter-cache already
    imported, so that a warm build costs hardly more than jupyter-book's own.

    Parameters
    ----------
    scripts : Path
        The folder holding the virtual environment's Python and scripts (its bin/).
    path_output : Path, optional
        Where ``_build/`` goes (default: the repository root, with its execution cache).
    root : Path, optional
        The book to build (default: this repository; the benchmark builds a copy).
    jobs : int, optional
        How many chapters to execute at once (default: :func:`default_jobs`; 1 executes them
        one after another, as Sphinx alone would).
    run_options
        Passed to ``subprocess.run`` (e.g. ``capture_output=True``).
    """
    ensure_mathjax(root)
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    command = [str(python), "-m", "tools.book", str(root), str(root if path_output is None else path_output),
               str(jobs or default_jobs()), "build", str(root), *STRICT]
    if path_output is not None:
        command += ["--path-output", str(path_output)]
    # Run from this repository, so that ``tools.book`` is this file whichever book is built.
    return subprocess.run(command, cwd=CODE, env=book_environment(scripts), check=False, **run_options)


# Everything below runs in .venv's Python only.

def say(message: str) -> None:
    print(f"[book] {message}", flush=True)


def sphinx_configs(root: Path):
    """MyST's and MyST-NB's configurations as the build's Sphinx gets them: from jupyter-book's own
    translation of _config.yml, with the options the ``jupyter-book build`` command line adds."""
    from jupyter_book.config import get_final_config
    from myst_nb.core.config import NbParserConfig
    from myst_parser.config.main import MdParserConfig

    # Not validated: jupyter-book validates _config.yml and reports what is wrong with it.
    config, _ = get_final_config(user_yaml=root / "_config.yml", sourcedir=root, validate=False,
                                 cli_config={"external_toc_path": (root / "_toc.yml").as_posix(),
                                             "latex_individualpages": False, "nitpicky": True})

    def options(kind, prefix: str):
        return kind(**{name: config[prefix + name] for name, _, _ in kind().as_triple() if prefix + name in config})

    return options(MdParserConfig, "myst_"), options(NbParserConfig, "nb_")


def chapters_to_execute(root: Path, output: Path):
    """The cache, and the notebooks of the table of contents that MyST-NB would execute: each as
    (path, notebook, how it was read, its configuration), read and configured as
    ``myst_nb.sphinx_.Parser.parse`` and ``myst_nb.core.execute.create_client`` do it.

    Only pages in _toc.yml are looked at (``only_build_toc_files: true``); another page that
    Sphinx reads would still be executed, by Sphinx, one after another."""
    from jupyter_cache import get_cache

    md_config, nb_config = sphinx_configs(root)
    if nb_config.execution_mode != "cache":
        return None, []
    # As myst_nb.sphinx_ext does: <output>/_build/html/../.jupyter_cache, unless configured
    # (a configured path is relative to the folder jupyter-book runs in: the book's root).
    cache = get_cache(root / nb_config.execution_cache_path if nb_config.execution_cache_path
                      else output / "_build" / ".jupyter_cache")
    pages, hashes = [], set()
    for path, notebook, read_fmt, config in toc_notebooks(root, md_config, nb_config):
        if not executed_by_the_book(path, config):
            continue
        _, key = cache.create_hashed_notebook(notebook)
        if key in hashes:  # as another page (pages without code are all alike): cached with it
            continue
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            hashes.add(key)
            pages.append((path, notebook, read_fmt, config))
    return cache, pages


def executed_by_the_book(path: Path, config) -> bool:
    """Does MyST-NB execute (and cache) this page? Not the assignments, which are excluded."""
    from pathlib import PurePosixPath

    return config.execution_mode == "cache" and not any(
        PurePosixPath(path.as_posix()).match(pattern) for pattern in config.execution_excludepatterns)


def toc_notebooks(root: Path, md_config, nb_config):
    """Each page of _toc.yml that MyST-NB reads as a notebook: (path, notebook, how it was read, its
    configuration), read and configured as ``myst_nb.sphinx_.Parser.parse`` does it."""
    import re

    from myst_nb.core.read import create_nb_reader
    from sphinx_external_toc.parsing import parse_toc_yaml

    for docname in parse_toc_yaml(root / "_toc.yml"):
        path = next((root / f"{docname}{suffix}" for suffix in (".md", ".ipynb", *nb_config.custom_formats)
                     if (root / f"{docname}{suffix}").is_file()), None)
        if path is None:
            continue
        text = path.read_text(encoding="utf-8")
        reader = create_nb_reader(str(path), md_config, nb_config, text)
        if reader is None:  # a plain Markdown page
            continue
        try:
            notebook = reader.read(text)
        except Exception:  # Sphinx reports it
            continue
        kernel = notebook.metadata.get("kernelspec", {}).get("name")
        for pattern, alias in (nb_config.kernel_rgx_aliases or {}).items():
            if kernel is not None and re.fullmatch(pattern, kernel):
                notebook.metadata["kernelspec"]["name"] = alias
                break
        config = nb_config
        if nb_config.metadata_key in notebook.metadata:
            overrides = dict(notebook.metadata[nb_config.metadata_key])
            overrides.pop("output_folder", None)
            try:
                config = nb_config.copy(**overrides)
            except Exception:  # Sphinx warns of it, and executes with the book's configuration
                pass
        yield path, notebook, reader.read_fmt, config


#: How prose quotes a glued value: the {glue}, {glue:text}, {glue:md}... roles and directives.
GLUE_REFERENCE = r"\{glue(?::\w+)?\}`([^`]+)`|[`:]{3,}\{glue(?::\w+)?\}[ \t]+(\S+)"


def glue_order_problems(root: Path = ROOT, output: Path | None = None) -> list[str]:
    """Every place where a chapter's prose quotes a glued value before the cell that glues it.

    MyST-NB (Jupyter Book 1) pastes glued values after executing the whole page, so the order does
    not matter to it; Jupyter Book 2 reads values as it goes, and a value quoted before it is
    computed is missing there. Reads each chapter's executed copy from the execution cache (build
    the book first); a chapter not in the cache is named as such.
    """
    import re

    from jupyter_cache import get_cache

    md_config, nb_config = sphinx_configs(root)
    cache = get_cache(root / nb_config.execution_cache_path if nb_config.execution_cache_path
                      else (output or root) / "_build" / ".jupyter_cache")
    problems = []
    for path, notebook, _, config in toc_notebooks(root, md_config, nb_config):
        if not executed_by_the_book(path, config):
            continue
        try:
            _, executed = cache.merge_match_into_notebook(notebook)
        except KeyError:
            problems.append(f"{path.relative_to(root)}: not in the execution cache (build the book first)")
            continue
        glued: set[str] = set()
        for cell in executed.cells:
            if cell.cell_type == "code":
                glued.update(output.get("metadata", {}).get("scrapbook", {}).get("name")
                             for output in cell.get("outputs", []))
            elif cell.cell_type == "markdown":
                for match in re.finditer(GLUE_REFERENCE, cell.source):
                    name = (match.group(1) or match.group(2)).split(":")[0]
                    if name not in glued:
                        problems.append(f"{path.relative_to(root)}: {name!r} is quoted before it is glued")
    return problems


def children_cpu_seconds() -> float:
    """CPU seconds used so far by this process's finished children and theirs: here, the kernels
    and the processes they trained in (NaN where the resource module is missing: Windows)."""
    try:
        import resource
    except ImportError:
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def execute_one(notebook, path: Path, config):
    """Execute one notebook in its own folder as MyST-NB does (``execution_in_temp: false``: the
    chapters import the course's packages from their parent folder). Runs in a worker process,
    which executes one notebook at a time: the growth of its children's CPU time is this one's."""
    import tempfile
    from contextlib import nullcontext

    from jupyter_cache.executors.utils import single_nb_execution

    cpu = children_cpu_seconds()
    with (tempfile.TemporaryDirectory() if config.execution_in_temp else nullcontext(str(path.parent))) as cwd:
        result = single_nb_execution(notebook, cwd=os.path.abspath(cwd), allow_errors=config.execution_allow_errors,
                                     timeout=config.execution_timeout, meta_override=True)
    return result.nb, result.time, children_cpu_seconds() - cpu, None if result.err is None else type(result.err).__name__


def execute_chapters(root: Path, output: Path, jobs: int) -> None:
    """Execute, ``jobs`` at a time and the longest first, every chapter the cache lacks, and cache
    each that succeeds as MyST-NB would (a project record, then the executed notebook)."""
    import time
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from jupyter_cache.base import CacheBundleIn

    start = time.perf_counter()
    cache, pages = chapters_to_execute(root, output)
    if not pages:
        return
    # The longest first: the last time this chapter took (newest cache record of its path),
    # else its typical time, else 0. Workers take the chapters in the order submitted.
    last = {record.uri: (record.data or {}).get("execution_seconds", 0)
            for record in sorted(cache.list_cache_records(), key=lambda record: record.pk)}

    def expected(page) -> float:
        path = page[0]
        return last.get(str(path)) or TYPICAL_SECONDS.get(path.relative_to(root).with_suffix("").as_posix(), 0)

    pages.sort(key=expected, reverse=True)
    say(f"executing {len(pages)} notebooks, {jobs} at a time: "
        + ", ".join(path.relative_to(root).as_posix() for path, *_ in pages))
    failed = 0
    with ProcessPoolExecutor(jobs) as pool:
        running = {pool.submit(execute_one, notebook, path, config): (path, read_fmt)
                   for path, notebook, read_fmt, config in pages}
        for done in as_completed(running):
            path, read_fmt = running[done]
            name = path.relative_to(root).as_posix()
            try:
                notebook, seconds, cpu, error = done.result()
            except Exception as crash:  # the kernel died, say
                notebook, seconds, cpu, error = None, 0.0, 0.0, repr(crash)
            if error is not None:
                failed += 1
                say(f"{name} failed ({error}): left out of the cache, so that Sphinx executes it "
                    "again and reports it")
                continue
            record = cache.add_nb_to_project(str(path), read_data=read_fmt)
            cache.cache_notebook_bundle(CacheBundleIn(notebook, record.uri, data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            say(f"executed {name} in {seconds:.1f} s (CPU {cpu:.1f} s)")
    say(f"executed {len(pages) - failed} notebooks ({failed} failed) in {time.perf_counter() - start:.1f} s")


def main(root: str, output: str, jobs: str, *jupyter_book: str) -> None:
    """Execute the chapters the cache lacks, then run ``jupyter-book <jupyter_book...>`` from the
    book's root, as its own script would, exiting with its status."""
    from jupyter_book.cli.main import main as jupyter_book_command

    execute_chapters(Path(root).resolve(), Path(output).resolve(), int(jobs))
    os.chdir(root)
    jupyter_book_command(args=list(jupyter_book), prog_name="jupyter-book")


if __name__ == "__main__":
    # Through the module's own name, so that the worker processes find execute_one under it
    # whichever way they start (fork, spawn, forkserver).
    from tools.book import main as run

    run(*sys.argv[1:])
