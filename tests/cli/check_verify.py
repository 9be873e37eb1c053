#!/usr/bin/python3
"""End-to-end check of `kktflow verify --json` (docs/file-format.md, docs/cli.md; docs/verify-schema.json).

    /usr/bin/python3 tests/cli/check_verify.py KKTFLOW SCHEMA RUN.h5

Runs `KKTFLOW verify RUN.h5 --json`, then checks that
- the exit status is 0 when the JSON says every claim passed and 1 otherwise;
- the JSON validates against SCHEMA (python3-jsonschema);
- /verify in RUN.h5 holds the same rows (h5py), with the dimension scale "claim", and opens in
  xarray (engine h5netcdf) with dimension "claim";
- a second verify with --claims replaces /verify rather than adding to it;
- --refine reruns at a tenth of the tolerances: its JSON validates too, every verdict is
  unchanged and the final directions of the two runs agree within 1e-6 rad (ours: both runs'
  local errors are ≤ 1e-8 relative per step, so a larger angle means the refinement is broken).
Exits 0, or prints the problems and exits 1.
"""
import json
import subprocess
import sys

import h5py
import jsonschema
import numpy as np
import xarray as xr


def verify(kktflow, run, *extra):
    done = subprocess.run([kktflow, "verify", run, "--json", *extra], capture_output=True, text=True)
    return done.returncode, json.loads(done.stdout)


def check_file(run, report, problems):
    with h5py.File(run, "r") as f:
        group = f["verify"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group["name"][:]]
        if names != [c["name"] for c in report["claims"]]:
            problems.append(f"/verify/name {names} differs from the JSON")
        if list(group["passed"][:]) != [int(c["passed"]) for c in report["claims"]]:
            problems.append("/verify/passed differs from the JSON")
        for c, value in zip(report["claims"], group["value"][:]):
            if c["value"] is not None and not np.isclose(value, c["value"], rtol=1e-12, atol=0):
                problems.append(f"/verify/value of {c['name']}: {value} vs JSON {c['value']}")
        if not group["claim"].attrs.get("CLASS", b"") == b"DIMENSION_SCALE":
            problems.append("/verify/claim is not a dimension scale")
    ds = xr.open_dataset(run, group="verify", engine="h5netcdf")
    if ds["passed"].dims != ("claim",):
        problems.append(f"xarray sees /verify/passed with dims {ds['passed'].dims}")


def main():
    kktflow, schema_path, run = sys.argv[1:4]
    with open(schema_path) as f:
        schema = json.load(f)
    problems = []
    code, report = verify(kktflow, run)
    try:
        jsonschema.validate(report, schema)
    except jsonschema.ValidationError as e:
        problems.append(f"JSON does not match the schema: {e.message}")
    if code != (0 if report["passed"] else 1):
        problems.append(f"exit status {code} but passed = {report['passed']}")
    if len(report["claims"]) != 9:
        problems.append(f"{len(report['claims'])} claims reported, expected all 9")
    check_file(run, report, problems)
    code, report = verify(kktflow, run, "--claims", "frei2023.kkt,lyuli2020.kkt_rate")
    check_file(run, report, problems)
    if [c["name"] for c in report["claims"]] != ["frei2023.kkt", "lyuli2020.kkt_rate"]:
        problems.append("--claims did not select and order the claims")
    code, report = verify(kktflow, run, "--refine", "--claims", "frei2023.kkt,frei2023.rank_le_2")
    try:
        jsonschema.validate(report, schema)
    except jsonschema.ValidationError as e:
        problems.append(f"--refine JSON does not match the schema: {e.message}")
    refined = report.get("refine", {})
    if refined.get("final_angle") is None or refined["final_angle"] > 1e-6:
        problems.append(f"--refine: final directions differ by {refined.get('final_angle')} rad")
    for c in refined.get("claims", []):
        if c["passed"] != c["refined_passed"]:
            problems.append(f"--refine changed the verdict of {c['name']}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"check_verify.py: {run}: schema, exit status and /verify agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
