"""``omnihub dialogs test FILE``: play scenario files against a running hub's web chat.

A running hub is reached only as a citizen reaches it: the web chat page gives a
visitor cookie, the websocket carries the turns. So only the replies are checked;
``end_state`` needs the database and the hub's own clock, which a running hub does
not lend (the test suite checks both, see tests/test_scenarios.py), and scenarios that
are not for the web chat are skipped. A turn's ``after`` (time passing) is played at
once, with a note on the scenario's line. Each scenario is a new visitor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path

import aiohttp

from hub.cli.command import Handler, Subparsers
from hub.config import Settings
from hub.dialogs.scenarios import Reply, Scenario, ScenarioError, check_turn, load_scenarios

TIMEOUT = 15.0


def add_commands(sub: Subparsers) -> None:
    dialogs = sub.add_parser("dialogs", help="dialog scenarios (docs/scenarios.md)")
    dialogs_sub = dialogs.add_subparsers(dest="dialogs_command", required=True)
    test = dialogs_sub.add_parser(
        "test", help="play a scenario file on a running hub's web chat; PASS/FAIL per scenario"
    )
    test.add_argument("file", type=Path, help="a YAML scenario file, e.g. tests/scenarios/x.yaml")
    test.add_argument("--url", default="http://127.0.0.1:8080", help="the hub's base URL")
    test.add_argument(
        "--settle",
        type=float,
        default=0.5,
        help="seconds without a new reply after which a turn's replies are complete",
    )
    dialogs.set_defaults(handler=Handler(run))


def run(args: argparse.Namespace, settings: Settings) -> int:
    del settings  # the hub under test has its own configuration
    try:
        scenarios = load_scenarios(args.file)
    except ScenarioError as exc:
        print(f"omnihub: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_run_all(scenarios, str(args.url).rstrip("/"), args.settle))


async def _run_all(scenarios: list[Scenario], base: str, settle: float) -> int:
    passed = failed = skipped = 0
    for scenario in scenarios:
        if "webchat" not in scenario.channel:
            skipped += 1
            print(f"SKIP {scenario.name}: not a web chat scenario", flush=True)
            continue
        try:
            reason = await play(scenario, base, settle)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            reason = f"hub not reachable at {base}: {exc or type(exc).__name__}"
        if reason is None:
            passed += 1
            print(f"PASS {scenario.name}{_notes(scenario)}", flush=True)
        else:
            failed += 1
            print(f"FAIL {scenario.name}: {reason}", flush=True)
    total = f"{passed} passed, {failed} failed"
    print(total + (f", {skipped} skipped" if skipped else ""), flush=True)
    return 1 if failed else 0


def _notes(scenario: Scenario) -> str:
    """What a running hub could not check: the database, and time passing (``after``)."""
    notes = []
    if scenario.end_state:
        notes.append("end_state not checked")
    if any(turn.after is not None for turn in scenario.turns):
        notes.append("after ignored: a running hub's clock cannot be moved")
    return f" ({'; '.join(notes)})" if notes else ""


async def play(scenario: Scenario, base: str, settle: float) -> str | None:
    """Why the scenario failed on the hub at ``base``, or None when it passed."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/chat") as page:
            if page.status != 200:
                return f"GET /chat answered {page.status}"
        async with http.ws_connect(f"{base}/chat/ws", headers={"Origin": base}) as ws:
            for turn in scenario.turns:
                replies = await _say(ws, turn.say, settle)
                problem = check_turn(turn, replies)
                if problem:
                    return problem
    return None


async def _say(ws: aiohttp.ClientWebSocketResponse, text: str, settle: float) -> list[Reply]:
    """Send one message; its replies (those answering it: ``reply_to``): at least one,
    then all that come until none has for ``settle`` seconds."""
    message_id = uuid.uuid4().hex
    await ws.send_str(json.dumps({"type": "message", "id": message_id, "text": text}))
    replies: list[Reply] = []
    async with asyncio.timeout(TIMEOUT):
        while True:
            try:
                msg = await ws.receive(timeout=settle if replies else TIMEOUT)
            except TimeoutError:
                if replies:
                    return replies
                raise
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise aiohttp.ClientError(f"websocket closed ({msg.type.name})")
            frame = json.loads(msg.data)
            if frame.get("type") == "message" and frame.get("reply_to") == message_id:
                titles = tuple(str(c.get("title", "")) for c in frame.get("choices") or [])
                replies.append(Reply(str(frame.get("text", "")), titles))
            elif frame.get("type") == "error":
                raise aiohttp.ClientError(f"the hub refused the message: {frame}")
