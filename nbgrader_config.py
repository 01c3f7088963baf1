"""nbgrader configuration for this course.

The repository root is nbgrader's course directory. nbgrader's default folder
names are renamed to the course's vocabulary (see CONTRIBUTING.md):

* ``solutions/<slug>/<slug>.ipynb`` is nbgrader's *source* (solutions, hidden tests);
* ``exercises/<slug>/<slug>.ipynb`` is nbgrader's *release* (what learners get).

``submitted/``, ``autograded/``, ``feedback/`` and the gradebook are created by
nbgrader at grading time and ignored by git.
"""

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnn-from-scratch"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# The gradebook lives under autograder/ and is ignored by git (*.db). For a
# class graded on a cluster, PostgreSQL: "postgresql://user@host:5432/course"
# (the password in ~/.pgpass, not here).
c.CourseDirectory.db_url = "sqlite:///autograder/gradebook.db"

# SQLAlchemy reads postgresql://... as psycopg2's; the course installs psycopg 3,
# which SQLAlchemy calls postgresql+psycopg://... (autograder.paths.database_url;
# on nbgrader's own command line, write that form).
for _scheme in ("postgresql://", "postgres://"):
    if c.CourseDirectory.db_url.startswith(_scheme):
        c.CourseDirectory.db_url = "postgresql+psycopg://" + c.CourseDirectory.db_url[len(_scheme):]

# The released notebooks keep their cell ids stable and carry no outputs.
c.ClearOutput.enabled = True
# A single cell may not run for ever while grading: an infinite loop in one
# submission must not stall the class.
c.Execute.timeout = 120
