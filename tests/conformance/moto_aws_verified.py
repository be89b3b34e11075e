#!/usr/bin/env python3
"""Runs moto's AWS-verified DynamoDB tests against a running `tidestore serve`.

moto (https://github.com/getmoto/moto, Apache-2.0) marks the tests of its suite that its
maintainers run against real DynamoDB with `@pytest.mark.aws_verified`; with
`MOTO_TEST_ALLOW_AWS_REQUEST=true` they call the endpoint boto3 is given instead of moto's
mock. They are a conformance suite written by others against the real service. This script
fetches moto's source distribution at a pinned version (checked against its SHA-256) from
PyPI into a cache directory, unpacks its `tests/` package, runs the AWS-verified DynamoDB
tests with `AWS_ENDPOINT_URL` pointing at tidestore, and compares the failures with
`moto_expected_failures.txt` beside this script, where each expected failure says why. An
unexpected failure fails the run, and so does an expected failure that now passes (so the
list stays true).

Some tests ask STS who they are (`sts.get_caller_identity()`, for the account a resource
policy's `Principal` names) before they call DynamoDB. tidestore serves DynamoDB only, so
this script answers that one STS call itself (`AWS_ENDPOINT_URL_STS`, a local stand-in
naming the account `tidestore serve` was started with, `--account`, 000000000000 unless
ACCOUNT is given).

Usage: moto_aws_verified.py ENDPOINT CACHE_DIR [ACCOUNT]
Environment: TIDESTORE_MOTO_SDIST, a path to the sdist to use instead of downloading it.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import xml.etree.ElementTree as ElementTree
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

MOTO_VERSION = "5.2.1"
MOTO_SHA256 = "ccb2f3e1dfa82e50e054bda98b0be708d244d2668364dcc1d45e8d3de6091bde"
HERE = Path(__file__).resolve().parent
# Modules not run at all, and why (printed with the results).
IGNORED: dict = {}


def sdist(cache: Path) -> Path:
    """The pinned sdist: from TIDESTORE_MOTO_SDIST, the cache, or PyPI (then cached)."""
    given = os.environ.get("TIDESTORE_MOTO_SDIST")
    path = Path(given) if given else cache / f"moto-{MOTO_VERSION}.tar.gz"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", "--dest", str(cache), f"moto=={MOTO_VERSION}"],
            check=True,
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MOTO_SHA256:
        sys.exit(f"{path}: SHA-256 {digest}, expected {MOTO_SHA256}")
    return path


def unpack_tests(archive: Path, into: Path) -> Path:
    """Unpacks the sdist's `tests/__init__.py`, `tests/conftest.py`,
    `tests/test_s3/__init__.py` (the S3 helpers the export tests import) and
    `tests/test_dynamodb/` (nothing else, and no path outside `into`); returns the root."""
    root = into / f"moto-{MOTO_VERSION}"
    if (root / "tests" / "test_dynamodb").is_dir() and (root / "tests" / "test_s3").is_dir():
        return root
    shutil.rmtree(root, ignore_errors=True)
    prefix = f"moto-{MOTO_VERSION}/tests/"
    wanted = (prefix + "__init__.py", prefix + "conftest.py", prefix + "test_s3/__init__.py",
              prefix + "test_dynamodb/")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers()
                   if m.isfile() and m.name.startswith(wanted) and ".." not in m.name]
        tar.extractall(into, members=members, filter="data")
    return root


def expected_failures() -> dict:
    """Test id to the reason it is expected to fail, from the list beside this script."""
    expected = {}
    for line in (HERE / "moto_expected_failures.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test, _, reason = line.partition(" # ")
        expected[test.strip()] = reason.strip()
    return expected


def sts_stand_in(account: str) -> str:
    """Starts a local HTTP server that answers STS's `GetCallerIdentity` (query protocol,
    as botocore sends it) as the root user of `account`, and nothing else; its endpoint."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            if form.get("Action") != ["GetCallerIdentity"]:
                self.send_response(400)
                self.end_headers()
                return
            body = (
                '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                f"<GetCallerIdentityResult><Arn>arn:aws:iam::{account}:root</Arn>"
                f"<UserId>{account}</UserId><Account>{account}</Account>"
                "</GetCallerIdentityResult><ResponseMetadata><RequestId>"
                "00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>"
                "</GetCallerIdentityResponse>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main() -> int:
    endpoint, cache = sys.argv[1], Path(sys.argv[2])
    account = sys.argv[3] if len(sys.argv) > 3 else "000000000000"
    root = unpack_tests(sdist(cache), cache)
    report = cache / "moto-report.xml"
    env = dict(os.environ)
    env.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_STS": sts_stand_in(account),
        "MOTO_TEST_ALLOW_AWS_REQUEST": "true",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        # The plugin that skips the waits for AWS's asynchronous work, from beside this script.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    })
    subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "aws_verified", "tests/test_dynamodb",
         "-p", "no:cacheprovider", "-p", "moto_no_aws_waits", "-q", "--tb=line", "--color=no",
         "-W", "ignore::pytest.PytestUnknownMarkWarning",
         *(f"--ignore={module}" for module in IGNORED),
         f"--junitxml={report}"],
        cwd=root, env=env, check=False,
    )
    passed, failed = set(), {}
    for case in ElementTree.parse(report).iter("testcase"):
        path = case.get("classname", "").replace(".", "/")
        # `classname` is the module path, with the test class, if any, as its last part.
        module, _, klass = path.rpartition("/")
        test = (f"{module}.py::{klass}::{case.get('name')}"
                if not (root / f"{path}.py").exists() else f"{path}.py::{case.get('name')}")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if case.find("skipped") is not None:
            continue
        if problem is None:
            passed.add(test)
        else:
            failed[test] = (problem.get("message") or "").splitlines()[0][:200]
    expected = expected_failures()
    unexpected = {t: m for t, m in failed.items() if t not in expected}
    now_passing = sorted(t for t in expected if t in passed)
    missing = sorted(t for t in expected if t not in passed and t not in failed)
    print(f"moto {MOTO_VERSION} AWS-verified DynamoDB tests against {endpoint}: "
          f"{len(passed)} passed, {len(failed)} failed ({len(failed) - len(unexpected)} expected)")
    for module, reason in IGNORED.items():
        print(f"  not run, {module}: {reason}")
    reasons = {}
    for test in failed:
        if test in expected:
            reasons[expected[test]] = reasons.get(expected[test], 0) + 1
    for reason, count in sorted(reasons.items()):
        print(f"  expected, {count}: {reason}")
    for test, message in sorted(unexpected.items()):
        print(f"UNEXPECTED FAILURE {test}: {message}")
    for test in now_passing:
        print(f"NOW PASSING (remove it from moto_expected_failures.txt): {test}")
    for test in missing:
        print(f"NOT RUN (renamed or gone?): {test}")
    return 1 if unexpected or now_passing or missing or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
