import shutil
import loopml.monitor as monitor
from tests.unit.monitor.conftest import HOUR, T0, make_frame, project  # noqa

def test_demo(project):
    monitor.create("demo", "churn", window="1h")
    for h in range(6):
        f = make_frame(10 + h, 1_000 if h != 3 else 20, shift=0.4 * h, new_plan=0.1 if h == 5 else 0)
        ids = project.log(f, T0 + h * HOUR, step_ms=1_000 if h != 3 else 100)
        if h in (0, 1, 4):
            project.label(ids, f.churned)
    monitor.run("demo")
    p = monitor.report("demo")
    shutil.copy(p, "/tmp/demo.html")
