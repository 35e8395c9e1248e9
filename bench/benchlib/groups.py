"""The groups of measurements, each undoing its own mounts and servers."""

import os

from . import setup
from .bigdir import BigdirRunner
from .configs import PEERS, FusePeer, GatewayView, Native
from .local import LocalRunner
from .quota import QuotaRunner
from .scale import ScaleRunner
from .servers import GatewaySftp, PlainSftp
from .sftp import SftpRunner


def start_local_configs(env, backings, gateways):
    """backing name -> [native, gateway view, every peer], the peers started
    (on env.cleanup)."""
    configs = {}
    for name, b in backings.items():
        cfgs = [Native(b), GatewayView(b, gateways[name], env.user)]
        for peer, argv in PEERS.items():
            mnt = os.path.join(env.work, "mnt", name, peer)
            log_path = os.path.join(env.logs, f"{peer}-{name}.log")
            cfgs.append(FusePeer(peer, b, argv, mnt, log_path, env.pidfile, env.cpu).start(env.cleanup))
        configs[name] = cfgs
        for c in cfgs:
            env.config_notes.setdefault(f"local: {c.name}", c.note())
    return configs


def start_sftp_servers(env, backings, gateways, names, ports):
    """backing name -> [plain chroot, gateway], the plain sshd started."""
    servers = {}
    for name in names:
        b, gw = backings[name], gateways[name]
        plain = PlainSftp(env, b, gw, ports[name]).start(env.cleanup)
        servers[name] = [plain, GatewaySftp(b, gw)]
        for srv in servers[name]:
            env.config_notes.setdefault(f"sftp: {srv.name}", srv.note())
    return servers


def run_local(env, backings, gateways):
    mark = len(env.cleanup)
    try:
        LocalRunner(env).run(start_local_configs(env, backings, gateways))
    finally:
        env.cleanup.run_until(mark)


def run_sftp(env, backings, gateways, names, ports):
    """ports: backing name -> the plain sshd's port."""
    mark = len(env.cleanup)
    try:
        runner = SftpRunner(env)
        runner.prepare_client()
        runner.run(start_sftp_servers(env, backings, gateways, names, ports))
    finally:
        env.cleanup.run_until(mark)


def run_bigdir(env, backings, gateways, names, ports):
    """The local configurations on every backing; the two sftp servers on
    `names` (ports: backing name -> the plain sshd's port)."""
    mark = len(env.cleanup)
    try:
        BigdirRunner(env).run(start_local_configs(env, backings, gateways),
                              start_sftp_servers(env, backings, gateways, names, ports))
    finally:
        env.cleanup.run_until(mark)


def run_scale(env, port):
    ScaleRunner(env, port).run()


def run_quota(env, backings, ports):
    """ports: backing name -> the port of that backing's quota gateway."""
    mark = len(env.cleanup)
    try:
        runner = QuotaRunner(env, setup.start_gateway)
        runner.scan(env.scan_binary)
        names = [n for n in env.mode.sftp_backings if n in backings]
        runner.sftp({n: backings[n] for n in names}, ports)
    finally:
        env.cleanup.run_until(mark)
