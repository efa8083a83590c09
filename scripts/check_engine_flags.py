"""Check every line py/kvcache_calc/deploy/flags.py cites against the engines' released source.

    python3 scripts/check_engine_flags.py [--cache DIR]

Downloads each release's source distribution (or wheel) from PyPI's simple index — vLLM's sdist is
about 20 MB, the rest a few MB — into DIR (default ~/.cache/kvcache-calc/engine-sources), reads the
cited file inside the archive and checks that the cited line holds the flag. The SGLang router and
llm-d were read from repository commits that no PyPI release matches, so they are listed, not
checked. Exit code 1 when a line does not hold what the table says. Not part of `make test`: it
needs the network and about 20 s.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tarfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))

from kvcache_calc.deploy.flags import ENGINES, Flag  # noqa: E402

INDEX = "https://pypi.org/simple/{project}/"
# engine -> (PyPI project, release, repository prefix the archive's paths lack)
RELEASES = {
    "vllm": ("vllm", "0.13.0", ""),
    "sglang": ("sglang", "0.5.6.post2", "python/"),
    "lmcache": ("lmcache", "0.3.11", ""),
    "dynamo": ("ai-dynamo", "0.7.1", "components/src/"),
}
# what the cited line holds when it is not the flag's own quoted name (a dataclass field, a JSON key, a default)
EVIDENCE = {
    ("vllm", "--no-enable-prefix-caching"): '"--enable-prefix-caching"',
    ("vllm", "--port"): "port: int = 8000",
    ("vllm", "kv_connector=OffloadingConnector"): '"OffloadingConnector"',
    ("vllm", "kv_connector=LMCacheConnectorV1"): '"LMCacheConnectorV1"',
    ("vllm", "kv_role"): "kv_role: KVRole",
    ("vllm", "kv_connector_extra_config.num_cpu_blocks"): '"num_cpu_blocks"',
    ("vllm", "kv_connector_extra_config.block_size"): '"block_size"',
    ("vllm", "kv_connector_extra_config.eviction_policy"): '"eviction_policy"',
    ("vllm", "kv_connector_extra_config.spec_name"): '"spec_name"',
    ("vllm", "kv_connector_extra_config.kv_bytes_per_rank"): '"kv_bytes_per_rank"',
    ("vllm", "kv_connector_extra_config.lmcache.local_cpu"): '"lmcache.local_cpu"',
    ("vllm", "kv_connector_extra_config.lmcache.max_local_cpu_size"): '"lmcache.max_local_cpu_size"',
    ("vllm", "default.max_num_batched_tokens.openai_server.large_gpu"): "OPENAI_API_SERVER: 8192",
    ("vllm", "default.max_num_seqs.openai_server.large_gpu"): "OPENAI_API_SERVER: 1024",
    ("vllm", "default.max_num_batched_tokens.openai_server.other_gpu"): "OPENAI_API_SERVER: 2048",
    ("vllm", "default.max_num_seqs.openai_server.other_gpu"): "OPENAI_API_SERVER: 256",
    ("vllm", "default.max_num_batched_tokens.unknown_context"): "DEFAULT_MAX_NUM_BATCHED_TOKENS",
    ("vllm", "default.max_num_seqs.unknown_context"): "DEFAULT_MAX_NUM_SEQS",
    ("vllm", "default.max_num_batched_tokens.clamp"): "self.max_num_batched_tokens = min(",
    ("lmcache", "LMCACHE_CONFIG_FILE"): '"LMCACHE_CONFIG_FILE"',
}


def lmcache_evidence(name: str) -> str:
    """LMCache builds LMCACHE_<KEY> from its config keys: the cited line defines the lower-case key."""
    return f'"{name.removeprefix("LMCACHE_").lower()}"'


def archive(project: str, version: str, cache: Path) -> Path:
    """The release's sdist (else its wheel), downloaded once into the cache."""
    cache.mkdir(parents=True, exist_ok=True)
    html = urllib.request.urlopen(urllib.request.Request(INDEX.format(project=project),
                                                         headers={"Accept": "text/html"}), timeout=60).read().decode()
    links = re.findall(r'href="([^"]+)"', html)
    base = project.replace("-", "_")
    sdist = [u for u in links if re.search(rf"/{re.escape(project)}-{re.escape(version)}\.tar\.gz#", u)
             or re.search(rf"/{re.escape(base)}-{re.escape(version)}\.tar\.gz#", u)]
    wheels = [u for u in links if re.search(rf"/{re.escape(base)}-{re.escape(version)}-[^/]*\.whl#", u)]
    url = (sdist or wheels or [None])[0]
    if url is None:
        raise SystemExit(f"{project} {version}: no sdist or wheel on the index")
    url = urllib.parse.urljoin(INDEX.format(project=project), url)
    target = cache / url.split("#")[0].rsplit("/", 1)[-1]
    if not target.exists():
        print(f"downloading {target.name} ...", file=sys.stderr)
        target.write_bytes(urllib.request.urlopen(url, timeout=600).read())
    return target


def read_member(path: Path, suffix: str) -> list[str]:
    """Lines of the archive member whose path ends with `suffix`."""
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith("/" + suffix) or n == suffix]
            if names:
                return z.read(names[0]).decode().split("\n")
    else:
        with tarfile.open(path) as t:
            for member in t.getmembers():
                if member.name.endswith("/" + suffix):
                    return io.TextIOWrapper(t.extractfile(member), encoding="utf-8").read().split("\n")
    raise SystemExit(f"{path.name}: no file {suffix}")


def evidence(engine: str, flag: Flag) -> str:
    if (engine, flag.name) in EVIDENCE:
        return EVIDENCE[(engine, flag.name)]
    if engine == "lmcache":
        return lmcache_evidence(flag.name)
    return f'"{flag.name}"'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "kvcache-calc" / "engine-sources")
    args = parser.parse_args()
    bad = 0
    for name, engine in ENGINES.items():
        if name not in RELEASES:
            print(f"-- {name} {engine.version}: read at {engine.repository}@{engine.commit[:12]}, no PyPI release "
                  f"holds that file; not checked here")
            continue
        project, version, prefix = RELEASES[name]
        source = archive(project, version, args.cache)
        files: dict[str, list[str]] = {}
        for flag in engine.flags.values():
            suffix = flag.source.removeprefix(prefix)
            lines = files.setdefault(suffix, read_member(source, suffix))
            text = lines[flag.line - 1] if flag.line <= len(lines) else ""
            ok = evidence(name, flag) in text
            bad += not ok
            print(f"{'ok ' if ok else 'BAD'} {name} {engine.version} {flag.name}  {flag.source}:{flag.line}  "
                  f"{text.strip()[:70]}")
    print(f"{bad} line(s) do not hold their flag" if bad else "every checked line holds its flag")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
