"""``omnihub nlu train`` and ``omnihub nlu eval``: the NLU's own commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import ClientSession

from hub.cli.command import Handler, Subparsers
from hub.config import Settings
from hub.nlu import training_data
from hub.nlu.evaluation import evaluate_files, format_report
from hub.nlu.results import NluEngine
from hub.pipeline.understanding import load_builtin_engine


def add_commands(sub: Subparsers) -> None:
    nlu = sub.add_parser("nlu", help="understanding citizens: train and evaluate the NLU")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    nlu_sub.add_parser("train", help="train the built-in engine on nlu/data and save the model")
    evaluate_cmd = nlu_sub.add_parser(
        "eval",
        help="score an engine on files in Rasa NLU training-data format (pooled, and per file)",
    )
    evaluate_cmd.add_argument(
        "files",
        metavar="FILE",
        type=Path,
        nargs="+",
        help="files or folders of .yml files, e.g. nlu/test/citizens or nlu/dev/heldout.yml",
    )
    evaluate_cmd.add_argument("--engine", choices=["builtin", "rasa"], default=None)
    evaluate_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    nlu.set_defaults(handler=Handler(run))


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.nlu_command == "train":
        _engine, model, _trained = load_builtin_engine(settings, force_train=True)
        print(
            f"trained on {model.examples} examples in {model.seconds:.1f} s, "
            f"saved to {settings.nlu.model_path}"
        )
        return 0
    return asyncio.run(_evaluate(args, settings))


async def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    missing = [path for path in args.files if not path.exists()]
    if missing:
        print(f"omnihub: no such file or folder: {missing[0]}", file=sys.stderr)
        return 2
    try:
        files = training_data.load_by_file(args.files)
    except training_data.TrainingDataError as exc:
        print(f"omnihub: {exc}", file=sys.stderr)
        return 2
    scored = [(str(path), examples) for path, examples in files if examples]
    if not scored:
        named = ", ".join(str(path) for path in args.files)
        print(f"omnihub: no intent examples in {named}", file=sys.stderr)
        return 2
    builtin, _model, _trained = load_builtin_engine(settings)
    today = datetime.now(ZoneInfo(settings.server.timezone)).date()
    engine_name = args.engine or settings.nlu.engine
    async with ClientSession() as http:
        engine: NluEngine = builtin
        if engine_name == "rasa":
            from hub.nlu.rasa import RasaEngine

            engine = RasaEngine(
                settings.nlu.rasa_url, http, settings.nlu.rasa_timeout_seconds, fallback=builtin
            )
        report = await evaluate_files(engine, scored, today)
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
    return 0
