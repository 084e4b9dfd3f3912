"""``escalation-sim dashboard``: the interactive dashboard in a browser, served on this machine."""

from __future__ import annotations

import os
import threading

from .common import FAILURE, UsageError, command, load, note, seed_int, whole_number

DEFAULT_PORT = 8765
APP = "escalation_sim.dashboard.app:Page"
#: Seconds the server waits for open pages to close after Ctrl-C.
SHUTDOWN_SECONDS = 2

DASHBOARD_EXAMPLES = """\
  escalation-sim dashboard
  escalation-sim dashboard us_iran_2020 --port 8800
  escalation-sim dashboard my_crisis.yaml --runs 20000 --seed 7
"""

DASHBOARD_HELP = """\
Start the interactive dashboard on localhost and print its address; Ctrl-C stops it. Move a
parameter and the outcome probabilities are recomputed (a first estimate within about a second,
then the full batch); pick a run and watch the Mesa agents play it step by step. Needs the
dashboard extra: pip install 'escalation-sim[dashboard]' (from a checkout of the source:
pip install '.[dashboard]').
"""


def add(sub) -> None:
    p = command(sub, "dashboard", DASHBOARD_HELP, DASHBOARD_EXAMPLES, cmd_dashboard)
    p.add_argument("scenario", metavar="SCENARIO", nargs="?", default="us_iran_2020",
                   help="bundled name, YAML file or run folder to start with (default us_iran_2020)")
    p.add_argument("--port", type=whole_number(0), default=DEFAULT_PORT, metavar="N",
                   help=f"port on localhost (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--runs", type=whole_number(1), default=100_000, metavar="N",
                   help="runs of the batch behind the outcome table (default 100000)")
    p.add_argument("--seed", type=seed_int, default=2020, metavar="S", help="the batch's seed (default 2020)")


def cmd_dashboard(args) -> int:
    if args.port > 65535:
        raise UsageError(f"--port must be a port number 0..65535, got {args.port}")
    scenario = load(args.scenario)
    _quiet_solara()
    from ..dashboard import require

    require()
    from ..dashboard import app

    app.DEFAULTS.update(scenario=scenario, n_runs=args.runs, seed=args.seed)
    server, sock = _server(args.port)
    # Served from a thread, so that Ctrl-C reaches this one as KeyboardInterrupt (exit 130)
    # and the server is then shut down in order, not cancelled mid-step.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="dashboard-server", daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            thread.join(0.05)
        if not server.started:
            note("the dashboard's server stopped while starting (see the messages above)")
            return FAILURE
        print(f"escalation-sim dashboard: http://localhost:{sock.getsockname()[1]}/  (Ctrl-C stops it)", flush=True)
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(SHUTDOWN_SECONDS + 1)
        raise
    note("the dashboard's server stopped")
    return FAILURE


def _quiet_solara() -> None:
    """Settings read when Solara is first imported: no usage statistics sent, and no warnings
    about hooks in Mesa's own components (they are Mesa's to fix, not the user's)."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_CHECK_HOOKS", "off")


def _server(port: int):
    """A uvicorn server for Solara's app, and its socket, bound already so that a port in use
    is reported before anything is printed."""
    os.environ["SOLARA_APP"] = APP  # read when Solara's server modules are first imported
    import uvicorn
    from solara.server import app as solara_app

    if "__default__" not in solara_app.apps:  # imported before SOLARA_APP was set (in-process tests)
        solara_app.apps["__default__"] = solara_app.AppScript(APP)
    config = uvicorn.Config("solara.server.starlette:app", host="localhost", port=port, log_level="warning",
                            timeout_graceful_shutdown=SHUTDOWN_SECONDS)
    try:
        sock = config.bind_socket()
    except SystemExit:  # uvicorn logs the reason (the port is in use) and exits
        raise ConnectionError(f"cannot listen on localhost:{port}; choose another --port") from None
    return uvicorn.Server(config), sock
