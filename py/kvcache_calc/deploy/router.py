"""What to run in front of several replicas so requests are routed as the scenario's routing says."""

from __future__ import annotations

from ..notes import Note
from .command import Command, ShellWords
from .flags import ENGINES
from .inputs import FIRST_PORT, DeployInputs

MAX_LISTED_WORKERS = 64
# the scenario's routing -> SGLang router policy (least_loaded: the nearest it has, two random choices)
SGLANG_POLICY = {"affinity": "cache_aware", "random": "random", "round_robin": "round_robin",
                 "least_loaded": "power_of_two"}


def _sglang_router(d: DeployInputs, notes: list[Note]) -> Command:
    c = Command(ENGINES["sglang-router"], ["python", "-m", "sglang_router.launch_router"], "router")
    if d.one_node:
        urls: list[str] = [f"http://127.0.0.1:{port}" for port in d.ports()]
    elif d.replicas <= MAX_LISTED_WORKERS:
        urls = [f"http://replica-{i + 1}:{FIRST_PORT}" for i in range(d.replicas)]
    else:  # the shell lists them: a command line of thousands of URLs helps no one
        urls = [ShellWords(f"$(seq -f 'http://replica-%g:{FIRST_PORT}' 1 {d.replicas})")]
    c.flag("--worker-urls", urls, "the replicas")
    c.flag("--policy", SGLANG_POLICY[d.routing], "how a request picks its replica")
    if d.routing == "least_loaded":
        notes.append(Note("router_least_loaded",
                          "The SGLang router has no strict least-loaded policy; power_of_two (the less loaded of two "
                          "random replicas) is the nearest.",
                          "SGLang 路由器没有严格的最少负载策略；power_of_two（两个随机副本中负载较低者）最接近。"))
    return c


def router_commands(d: DeployInputs, engine: str, notes: list[Note]) -> list[Command]:
    """The router command for SGLang replicas; for vLLM, the prefix-aware routers to choose from, as notes."""
    if d.replicas == 1:
        return []
    if engine == "sglang":
        return [_sglang_router(d, notes)]
    if d.routing == "affinity":
        dynamo, llmd = ENGINES.get("dynamo"), ENGINES.get("llm-d")
        options = []
        if dynamo is not None:
            options.append(f"NVIDIA Dynamo {dynamo.version}: its frontend with {dynamo.flag('--router-mode').name} kv")
        if llmd is not None:
            scorer = llmd.flag("plugins.type=prefix-cache-scorer").name.split("=", 1)[1]
            options.append(f"llm-d: the endpoint picker's {scorer} plugin")
        notes.append(Note("vllm_router_affinity",
                          "Affinity routing needs a prefix-aware router in front of the vLLM replicas: "
                          + "; ".join(options) + ". Each runs its own workers; see its documentation.",
                          "亲和路由需要在 vLLM 副本前放一个感知前缀的路由器：" + "；".join(options) + "。"
                          "它们各自启动工作进程，详见其文档。"))
    else:
        notes.append(Note("vllm_router_blind",
                          f"{d.routing.replace('_', '-')} routing: any HTTP load balancer in front of the replicas "
                          f"(nginx, a Kubernetes Service) does it.",
                          f"{d.routing.replace('_', '-')} 路由：副本前的任何 HTTP 负载均衡器（nginx、Kubernetes Service）即可。"))
    return []
