"""The two SFTP servers compared: sshd chrooted on a plain folder tree, and
the gateway's own sshd chrooted on its view. Both run the gateway's rendered
hardened sshd_config; the plain one gets a copy with only the paths and port
changed, so crypto, limits and logging are identical."""

import os
import shutil

from gwtest.procs import children

from .configs import MOUNT
from .proc import BenchError, Daemon, Fatal, run, tree_cpu, wait_until
from .system import bind_mount, make_dir, umount


def _settle(listener_pid, timeout=15):
    """Waits until sshd has reaped every session: their CPU is then in its cutime."""
    wait_until(lambda: not children(listener_pid), timeout, 0.005, "sshd sessions to end")


class GatewaySftp:
    name = "gateway"
    mount = MOUNT

    def __init__(self, backing, gateway):
        self.backing, self.gateway, self.port = backing, gateway, gateway.port

    def probes(self):
        self.gateway.check()
        return {"sshd": self.gateway.sshd_cpu, "fuse": self.gateway.fuse_cpu}

    def settle(self):
        _settle(self.gateway.sshd_pid())

    def note(self):
        return "gateway serve --run-sshd: sshd (3 capabilities, private mount namespace) chrooted on the view"


class PlainSftp:
    """sshd with ChrootDirectory on real folders; the mapped volume is a bind
    mount of the backing folder into the chroot, as in the classic setup.

    The gateway's host mode gives sshd its view's passwd and group in a private
    mount namespace; this server gets copies of those files the same way
    (unshare + bind mounts), so no account is added to the host.
    """

    name = "plain-chroot"
    mount = MOUNT

    def __init__(self, env, backing, gateway, port):
        self.env, self.backing, self.gateway, self.port = env, backing, gateway, port
        self.etc = os.path.join(env.work, "plain", "etc")
        self.root = os.path.join(env.work, "plain", backing.name)
        user = env.user.name
        self.chroot = os.path.join(self.root, "data", f"{user}-chroot")
        self.vol = os.path.join(self.chroot, user, MOUNT)
        self.config = os.path.join(self.etc, f"sshd_config.{backing.name}")
        self.daemon = None

    def _write_etc(self):
        view_etc = os.path.join(self.gateway.view, "etc")
        make_dir(self.etc)
        make_dir(os.path.join(self.etc, "authorized_keys"))
        for name in ("passwd", "group"):
            src = os.path.join(view_etc, name)
            if not os.path.exists(src):  # newer gateways keep sshd's copies in the state folder
                src = os.path.join(self.gateway.state, "sshd-etc", name)
            shutil.copyfile(src, os.path.join(self.etc, name))
            os.chmod(os.path.join(self.etc, name), 0o644)
        keys = os.path.join(self.etc, "authorized_keys", self.env.user.name)
        shutil.copyfile(self.env.client_key + ".pub", keys)
        os.chmod(keys, 0o644)  # sshd reads it as the user (field notes)
        rendered = open(os.path.join(view_etc, "ssh", "sshd_config")).read().splitlines()
        out = []
        for line in rendered:
            word = line.split(" ", 1)[0]
            if word == "Port":
                line = f"Port {self.port}"
            elif word == "HostKey":
                src = line.split(" ", 1)[1]
                dst = os.path.join(self.etc, os.path.basename(src))
                shutil.copyfile(src, dst)
                os.chmod(dst, 0o600)
                line = f"HostKey {dst}"
            elif word == "AuthorizedKeysFile":
                line = f"AuthorizedKeysFile {self.etc}/authorized_keys/%u"
            elif word == "ChrootDirectory":
                line = f"ChrootDirectory {self.root}/data/%u-chroot"
            elif str(self.gateway.view) in line or str(self.gateway.state) in line:
                raise BenchError(f"rendered sshd_config has a view path the harness does not map: {line}")
            out.append(line)
        with open(self.config, "w") as f:
            f.write("# Copied by bench/ from the gateway's rendered config; paths and port changed.\n")
            f.write("\n".join(out) + "\n")
        run(["/usr/sbin/sshd", "-t", "-f", self.config], 20, what="sshd -t (plain config)")

    def start(self, cleanup):
        self._write_etc()
        for d in (os.path.join(self.env.work, "plain"), self.root, os.path.join(self.root, "data"), self.chroot):
            make_dir(d)
        u = self.env.user
        make_dir(os.path.join(self.chroot, u.name), 0o750, (u.uid, u.gid))
        make_dir(self.vol, 0o755, (u.uid, u.gid))
        bind_mount(self.backing.vol, self.vol)
        cleanup.push(f"unmount {self.vol}", lambda: umount(self.vol))
        script = 'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && exec /usr/sbin/sshd -D -e -f "$3"'
        argv = ["unshare", "--mount", "--propagation", "slave", "sh", "-c", script, "sh",
                os.path.join(self.etc, "passwd"), os.path.join(self.etc, "group"), self.config]
        self.group = self.env.cpu.new(f"plain-sshd-{self.backing.name}") if self.env.cpu.available() else None
        self.daemon = Daemon(f"sshd[plain {self.backing.name}]", argv,
                             os.path.join(self.env.logs, f"sshd-plain-{self.backing.name}.log"), self.env.pidfile,
                             self.group)
        cleanup.push("stop plain sshd", self.daemon.stop)
        self.daemon.start()
        self.daemon.wait_line(r"Server listening on", 0, 15)
        return self

    def probes(self):
        if not self.daemon.alive():
            raise Fatal(f"{self.daemon.name} exited during the run: {' | '.join(self.daemon.tail(4))}")
        if self.group:
            return {"sshd": self.group.usage}
        pid = self.daemon.pid
        return {"sshd": lambda: tree_cpu(pid)}

    def settle(self):
        _settle(self.daemon.pid)

    def note(self):
        return "sshd on a copy of the rendered config; chroot of real folders, volume bind-mounted"

