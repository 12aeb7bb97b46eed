"""deploy/Dockerfile builds what `make setup` builds: the pinned dependencies, the generated
protobuf code (same protoc outputs as the Makefile), and every package the processes import."""

from __future__ import annotations

import re

from common.settings import DEFAULT_PORTS, PROJECT_ROOT
from tests.deploy.manifests import DEPLOY, METRICS_PORT

DOCKERFILE = (DEPLOY / "Dockerfile").read_text()


def instructions(keyword: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines()
            if line.startswith(keyword + " ")]  # fmt: skip


def test_python_and_dependencies_match_the_project():
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    minor = re.search(r'requires-python = ">=3\.(\d+)', pyproject).group(1)
    assert all(f.startswith(f"python:3.{minor}-") for f in instructions("FROM"))
    assert any("pip install -r requirements.lock" in r for r in instructions("RUN"))


def test_protobuf_code_is_generated_like_make_gen():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    gen_recipe = makefile.split("gen/.built:", 1)[1].split("\n\n", 1)[0]
    outputs = set(re.findall(r"--\w+_out=gen", gen_recipe))
    assert outputs == {"--python_out=gen", "--pyi_out=gen", "--grpc_python_out=gen"}
    (protoc,) = [r for r in instructions("RUN") if "grpc_tools.protoc" in r]
    assert outputs <= set(protoc.split()) and "-Iprotos" in protoc


def test_the_image_holds_every_package_and_runs_unprivileged():
    copied = {c.split()[-1].strip("./") for c in instructions("COPY")}
    assert {"common", "services", "gateway", "gen", "protos"} <= copied
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert not {"common", "services", "gateway", "protos", "requirements.lock"} & set(ignored)
    assert ".venv" in ignored
    (user,) = instructions("USER")
    assert user.strip() not in ("root", "0")
    exposed = {int(p) for e in instructions("EXPOSE") for p in e.split()}
    assert exposed >= {*DEFAULT_PORTS.values(), 8080, METRICS_PORT}
    env = " ".join(instructions("ENV"))
    assert "PYTHONPATH=/app:/app/gen" in env and "SETTLE_ENV=production" in env
