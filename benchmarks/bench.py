"""archlint against cfn-lint and checkov, measured in the same run.

    python benchmarks/bench.py [--corpus DIR] [--runs N] [--sizes 1000,5000,20000]

Prints, for the real-template corpus (default `../shared/corpus/aws-cloudformation-templates`
from the project root), each tool's wall time and peak memory for ONE process
over all files, with archlint's ratio to it measured as interleaved pairs
(archlint, tool, archlint, tool ... after a warm-up; median of the per-pair
ratios, min and max shown);
archlint's time and per-resource cost on generated templates of growing size
(cost should stay flat: linear growth); and `archlint --version` start-up.
This is a benchmark, not a test: it asserts nothing and never fails CI.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "aws-cloudformation-templates"
SUFFIXES = (".yaml", ".yml", ".json", ".template")


def measure(command: list[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and peak RSS (MiB) of a whole process, over `runs` runs."""
    times, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)  # kilobytes on Linux
    return statistics.median(times), max(peaks)


def interleaved(a: list[str], b: list[str], runs: int, warmup: int = 1) -> dict:
    """`a` and `b` in turn (A B A B ...) after a warm-up of each: the two see the same
    machine, so the ratio a/b is taken pair by pair (median, min, max) and holds
    when the machine's speed drifts."""
    for _ in range(warmup):
        measure(a, 1)
        measure(b, 1)
    pairs = [(measure(a, 1), measure(b, 1)) for _ in range(runs)]
    ratios = sorted(b_time / a_time for (a_time, _), (b_time, _) in pairs)
    return {
        "a": statistics.median(t for (t, _), _ in pairs),
        "b": statistics.median(t for _, (t, _) in pairs),
        "a_mem": max(m for (_, m), _ in pairs),
        "b_mem": max(m for _, (_, m) in pairs),
        "ratio": statistics.median(ratios),
        "min": ratios[0],
        "max": ratios[-1],
    }


def archlint(*args: str) -> list[str]:
    return [sys.executable, "-m", "archlint", *args]


def corpus_files(corpus: Path) -> list[str]:
    return sorted(str(p) for p in corpus.rglob("*") if p.suffix in SUFFIXES and p.is_file())


def generate(resources: int) -> str:
    """A template of `resources` resources, in realistic groups of five.

    Each group: a bucket notifying a function, the function, its role with an
    inline policy naming the bucket and a queue, the queue, an event source
    mapping. Every rule and every semantic edge has work to do.
    """
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Resources:"]
    for i in range(resources // 5):
        lines += [
            f"  Bucket{i}:",
            "    Type: AWS::S3::Bucket",
            "    Properties:",
            f"      BucketName: !Sub '${{AWS::StackName}}-uploads-{i}'",
            "      NotificationConfiguration:",
            "        LambdaConfigurations:",
            "          - Event: s3:ObjectCreated:*",
            f"            Function: !GetAtt Function{i}.Arn",
            f"  Function{i}:",
            "    Type: AWS::Lambda::Function",
            "    Properties:",
            "      Runtime: python3.12",
            "      Handler: index.handler",
            f"      Role: !GetAtt Role{i}.Arn",
            "      Code: {ZipFile: 'def handler(e, c): return e'}",
            "      Environment:",
            "        Variables:",
            f"          QUEUE_URL: !Ref Queue{i}",
            f"          STAGE: !If [IsProd, prod, dev{i}]",
            f"  Role{i}:",
            "    Type: AWS::IAM::Role",
            "    Properties:",
            "      AssumeRolePolicyDocument:",
            "        Statement:",
            "          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com},"
            " Action: sts:AssumeRole}",
            "      Policies:",
            "        - PolicyName: app",
            "          PolicyDocument:",
            "            Statement:",
            "              - Effect: Allow",
            "                Action: [s3:GetObject, s3:PutObject]",
            f"                Resource: !Sub 'arn:${{AWS::Partition}}:s3:::${{AWS::StackName}}"
            f"-uploads-{i}/*'",
            "              - Effect: Allow",
            "                Action: [sqs:SendMessage]",
            f"                Resource: !GetAtt Queue{i}.Arn",
            f"  Queue{i}:",
            "    Type: AWS::SQS::Queue",
            "    Properties:",
            "      VisibilityTimeout: 60",
            f"  Mapping{i}:",
            "    Type: AWS::Lambda::EventSourceMapping",
            "    Properties:",
            f"      EventSourceArn: !GetAtt Queue{i}.Arn",
            f"      FunctionName: !Ref Function{i}",
        ]
    lines += ["Conditions:", "  IsProd: !Equals [!Ref 'AWS::StackName', prod]"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=3, help="runs per archlint measurement")
    parser.add_argument(
        "--tool-runs", type=int, default=3, help="interleaved archlint/tool pairs per tool"
    )
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--skip-checkov", action="store_true")
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    startup, _ = measure(archlint("--version"), max(args.runs, 5))
    print(f"\nstart-up: `archlint --version` {startup * 1000:.0f} ms (target < 250 ms)")

    if args.corpus.is_dir():
        files = corpus_files(args.corpus)
        print(f"\ncorpus: {len(files)} files in {args.corpus}")
        print(f"{'tool':<22}{'wall s':>10}{'peak MiB':>10}{'archlint x faster':>20}")
        ours, ours_mem = measure(
            archlint("check", "--fail-on", "never", "--format", "json", str(args.corpus)), args.runs
        )
        one, one_mem = measure(
            archlint(
                "check", "--jobs", "1", "--fail-on", "never", "--format", "json", str(args.corpus)
            ),
            args.runs,
        )
        print(f"{'archlint':<22}{ours:>10.2f}{ours_mem:>10.0f}{'':>20}")
        print(f"{'archlint --jobs 1':<22}{one:>10.2f}{one_mem:>10.0f}{'':>20}")
        tools = {"cfn-lint": ["cfn-lint", "--format", "parseable", "--", *files]}
        if not args.skip_checkov:
            tools["checkov"] = [
                "checkov",
                "--framework",
                "cloudformation",
                "--quiet",
                "--compact",
                "-d",
                str(args.corpus),
            ]
        check = archlint("check", "--fail-on", "never", "--format", "json", str(args.corpus))
        for name, command in tools.items():
            if not shutil.which(command[0]):
                continue
            pair = interleaved(check, command, args.tool_runs)
            print(
                f"{name:<22}{pair['b']:>10.2f}{pair['b_mem']:>10.0f}{pair['ratio']:>19.1f}x"
                f"  (interleaved pairs: median of {args.tool_runs} ratios, "
                f"min {pair['min']:.1f}x, max {pair['max']:.1f}x)"
            )
    else:
        print(f"\ncorpus {args.corpus} not found: skipped")

    print("\ngenerated templates (one file each):")
    print(f"{'resources':>10}{'MB':>8}{'wall s':>10}{'peak MiB':>10}{'us/resource':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in [int(s) for s in args.sizes.split(",") if s]:
            path = Path(tmp) / f"generated-{size}.yaml"
            path.write_text(generate(size))
            wall, mem = measure(
                archlint("check", "--fail-on", "never", "--format", "json", str(path)), args.runs
            )
            base, _ = measure(archlint("--version"), args.runs)
            per = (wall - base) / size * 1e6
            mb = path.stat().st_size / 1e6
            print(f"{size:>10}{mb:>8.1f}{wall:>10.2f}{mem:>10.0f}{per:>14.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
