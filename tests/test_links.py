"""Do released notebooks tell learners where the course is, by the one setting html.baseurl?"""

from __future__ import annotations

import shutil

from autograder.course import links
from autograder.paths import ROOT


def course_with(tmp_path, baseurl: str):
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    (tmp_path / "_config.yml").write_text(config.replace('  baseurl: ""', f'  baseurl: "{baseurl}"'), encoding="utf-8")
    return tmp_path


TEXT = ("See [the chapter](../../book/rnn.md#the-backward-step) and [Get started](../../book/get-started.md): "
        "`pip install {{rnnlab_wheel}}`, or download {{rnnlab_wheel_link}}.")


def test_are_links_absolute_and_the_install_one_line_where_the_address_is_set(tmp_path):
    course = course_with(tmp_path, "https://courses.university.test/rnn")
    wheel = links.wheel_name(course)
    assert links.localise(TEXT, course) == (
        "See [the chapter](https://courses.university.test/rnn/book/rnn.html#the-backward-step) and "
        "[Get started](https://courses.university.test/rnn/book/get-started.html): "
        f"`pip install https://courses.university.test/rnn/{wheel}`, "
        f"or download [{wheel}](https://courses.university.test/rnn/{wheel}).")


def test_do_links_stay_relative_and_name_the_downloaded_wheel_where_it_is_not(tmp_path):
    course = course_with(tmp_path, "")
    wheel = links.wheel_name(course)
    assert wheel == f"rnnlab-{links.rnnlab_version(ROOT)}-py3-none-any.whl"
    assert links.localise(TEXT, course) == (
        "See [the chapter](../../book/rnn.md#the-backward-step) and [Get started](../../book/get-started.md): "
        f'`pip install ./{wheel}`, or download <a href="../../{wheel}">{wheel}</a>.')


def test_does_a_course_without_a_website_of_its_own_use_the_repositorys(tmp_path):
    assert links.site_url(tmp_path) == links.site_url(ROOT)
    assert links.wheel_name(tmp_path) == links.wheel_name(ROOT)
