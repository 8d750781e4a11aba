"""``sunshine demo-data``: write the deterministic fictional jurisdiction 示例市."""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import SunshineError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo-data",
        help="write a deterministic fictional sample jurisdiction (示例市) with N targets",
        description=(
            "Write a complete data directory for the fictional jurisdiction 示例市 (sample: true): departments, "
            "item list (two versions), N targets, inspectors, plans 2025 (adjusted) and 2026. The same options "
            "always give byte-identical files. The directory is written to OUT.tmp and then renamed, so a "
            "failed run leaves nothing half-written. Then the draw ceremony is run for every task into OUT/ledger "
            "(demo keys in OUT/demo-keys, real drand rounds where they exist) and the results of the drawn targets "
            "are written to OUT/results/ (skip both with --no-ledger). Guide: docs/import.md."
        ),
    )
    p.add_argument("--scale", type=int, default=3000, metavar="N", help="number of targets (default: 3000; at least 100)")
    p.add_argument("--out", required=True, metavar="DIR", help="data directory to create (e.g. data)")
    p.add_argument("--seed", type=int, default=2025, metavar="S", help="seed of the generator (default: 2025)")
    p.add_argument(
        "--tasks",
        type=int,
        default=None,
        metavar="T",
        help="number of tasks in the plans (default: max(23, N/500); at least the 23 of the sample catalogue)",
    )
    p.add_argument(
        "--inspectors",
        type=int,
        default=None,
        metavar="M",
        help="number of inspectors (default: max(120, N/250); at least 60)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a non-empty DIR (its ledger/ and demo-keys/ are kept)",
    )
    p.add_argument(
        "--no-ledger",
        action="store_true",
        help="no ledger and no demo keys (for benchmark-scale data); results/ then come from STAND-IN selections "
        "(real pools and sample sizes, members picked by a seeded generator instead of tickets; no drand, no matching, nothing signed), marked as such in the README",
    )
    p.add_argument(
        "--results",
        type=int,
        default=None,
        metavar="R",
        help="with --no-ledger: keep about R results: a seeded subset of every task's stand-in selection, a smaller "
        "share for joint tasks (one result per department) so that results spread over many targets "
        "(default: all the stand-in selections give)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import demo

    opts = demo.Options(scale=args.scale, seed=args.seed, tasks=args.tasks, inspectors=args.inspectors)
    try:
        opts.check()
    except ValueError as exc:
        raise SunshineError(str(exc)) from None
    if args.results is not None and (args.results < 0 or not args.no_ledger):
        raise SunshineError(
            f"--results: expected a number >= 0 together with --no-ledger, got {args.results}"
            + ("" if args.no_ledger else " without --no-ledger"),
            hint="the ceremony's results follow from its draws; --results only thins stand-in selections",
        )
    started = time.perf_counter()
    try:
        summary = demo.write(args.out, opts, force=args.force, keep_dataset=args.no_ledger)
    except FileExistsError:
        raise SunshineError(
            f"{args.out}: expected an empty or missing directory, got a non-empty one",
            hint="pass --force to replace it (its ledger/ and demo-keys/ are kept), or choose another --out",
        ) from None
    except NotADirectoryError:
        raise SunshineError(f"{args.out}: expected a directory, got a file") from None
    except OSError as exc:
        raise SunshineError(f"{args.out}: cannot write the sample: {exc.strerror or exc}") from None
    elapsed = time.perf_counter() - started
    print(
        f"wrote {args.out}: {summary.targets} targets, {summary.inspectors} inspectors, "
        f"{summary.items} items, {summary.tasks} tasks (seed {opts.seed}) in {elapsed:.1f} s"
    )
    if not args.no_ledger:
        from .. import demo_ledger, loading

        started = time.perf_counter()
        ds = loading.load_dataset(args.out)
        info = demo_ledger.build(args.out, ds, opts.seed, progress=lambda m: print(f"… {m}", file=sys.stderr, flush=True),
                                 origin=demo_ledger.origin_for(args.scale, args.seed, args.tasks, args.inspectors))
        print(
            f"wrote {args.out}/ledger: {info['entries']} entries ({info['tasks']} tasks drawn), "
            f"{info['results']} results in {', '.join(info['files'])}, demo keys in {args.out}/demo-keys "
            f"in {time.perf_counter() - started:.1f} s"
        )
        return 0
    from .. import demo_ledger

    started = time.perf_counter()
    ds = summary.dataset  # what the files hold (tests/test_demo.py: loading them back gives the same dataset)
    assert ds is not None
    sel = demo_ledger.standin_selections(ds, opts.seed, progress=lambda m: print(f"… {m}", file=sys.stderr, flush=True))
    if args.results is not None:
        sel = demo.thin_selections(ds, sel, args.results, seed=opts.seed, until=demo_ledger.AS_OF)
    results = demo.make_results(ds, sel, opts.seed, until=demo_ledger.AS_OF)
    files = demo.write_results(args.out, ds, results)
    with open(f"{args.out}/README.md", "a", encoding="utf-8") as f:
        f.write(demo_ledger.STANDIN_NOTE)
        if args.results is not None:
            f.write(f"\nThinned with `--results {args.results}` (`sunshine.demo.thin_selections`): a seeded subset of every "
                    "task's stand-in selection, joint tasks keeping a smaller share, so that the results spread over "
                    f"many targets: {len(results)} results of {len({r.target for r in results})} targets.\n")
    print(f"wrote {len(results)} results of STAND-IN selections (no ledger) in {', '.join(files)} "
          f"in {time.perf_counter() - started:.1f} s")
    if summary.kept:
        kept = ", ".join(f"{n}/" for n in summary.kept)
        print(
            f"kept {kept} from the previous directory: if the data changed, its draws no longer match",
            file=sys.stderr,
        )
    return 0
