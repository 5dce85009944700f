"""Authored fragments of the Linux help dialogues: one ``Scenario`` per support problem.

Each scenario has several ways a user opens the conversation, two ways a helper answers and a few
follow-up exchanges. ``{name}`` marks a slot filled from ``slots`` (or from ``COMMON_SLOTS``); a slot
key such as ``"svc,check"`` fills several related names from one tuple. ``make_dialogues.py``
combines these fragments into the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scenario:
    """One support problem: openers (user), answers (helper), follow-up (question, answer) pairs."""

    topic: str
    openers: list[str]
    answers: list[str]
    followups: list[tuple[str, str]] = field(default_factory=list)
    slots: dict[str, list[Any]] = field(default_factory=dict)


COMMON_SLOTS: dict[str, list[Any]] = {
    "ver": ["20.04", "22.04", "22.04", "24.04", "24.04"],
    "user": ["alice", "deploy", "maria", "tom", "jonas", "sam"],
    "host": ["web01", "nas.lan", "backup01", "pi.local", "db02", "vps1"],
    "port": ["8080", "3000", "8000", "5000", "8443"],
}

SCENARIOS: list[Scenario] = [
    # ------------------------------------------------------------------ apt packages
    Scenario(
        "packages_apt",
        [
            "trying to install {pkg} with `sudo apt install {pkg}` but it says E: Unable to locate package "
            "{pkg}. fresh Ubuntu {ver} install",
            "apt can't find {pkg}?? 'Unable to locate package'. I'm sure it exists",
            "Why does apt say it cannot locate package {pkg}? I just installed Ubuntu {ver} yesterday.",
        ],
        [
            "On a fresh install the package lists are often empty or stale. Run `sudo apt update` first, "
            "then `sudo apt install {pkg}` again. If it still fails, check that the universe component is "
            "enabled: `sudo add-apt-repository universe`, then update once more.",
            "That message means apt has no record of the package in its current lists. Refresh them with "
            "`sudo apt update`. Many desktop programs live in the universe repository, so enable it with "
            "`sudo add-apt-repository universe`, run `sudo apt update` again and retry the install.",
        ],
        [
            (
                "ok the update fixed it. how do I check which version I got?",
                "`apt policy {pkg}` shows the installed version and the candidate from each repository. "
                "`dpkg -l {pkg}` lists it with its version too.",
            ),
            (
                "How can I search for the right package name next time?",
                "`apt search WORD` searches package names and descriptions. If you know the command but not "
                "the package, install apt-file (`sudo apt install apt-file && sudo apt-file update`) and run "
                "`apt-file search bin/COMMAND`.",
            ),
        ],
        {"pkg": ["vlc", "gimp", "htop", "ffmpeg", "tmux", "inkscape", "audacity", "neofetch"]},
    ),
    Scenario(
        "packages_apt",
        [
            "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process {pid} "
            "(unattended-upgr). what do I do",
            "can't install anything, apt says 'Unable to acquire the dpkg frontend lock'. is another "
            "process using it?",
            "apt keeps failing with 'Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend'",
        ],
        [
            "Another package manager is running, most often unattended-upgrades right after boot. Wait for "
            "it to finish; `ps aux | grep -i apt` shows what holds the lock. Do not delete the lock files. "
            "If an earlier run was killed halfway, run `sudo dpkg --configure -a` once the process is gone.",
            "The lock means a second apt or dpkg process is active, usually automatic updates or the "
            "Software "
            "app. Check with `ps aux | grep -E 'apt|dpkg'` and let it finish. Removing "
            "/var/lib/dpkg/lock-frontend by hand can corrupt the package database. If nothing is running "
            "anymore, `sudo dpkg --configure -a` repairs an interrupted install.",
        ],
        [
            (
                "it finished but now apt says dpkg was interrupted",
                "Then run what it suggests: `sudo dpkg --configure -a`. It finishes configuring the "
                "half-installed packages. Afterwards `sudo apt -f install` fixes missing dependencies.",
            ),
            (
                "can I turn off the automatic updates so this stops happening?",
                "You can with `sudo dpkg-reconfigure unattended-upgrades` and answering No, but you would "
                "lose automatic security fixes. Better leave it on and wait a few minutes after boot before "
                "using apt.",
            ),
        ],
        {"pid": ["1187", "2304", "3561", "4410", "5127"]},
    ),
    Scenario(
        "packages_apt",
        [
            "installing {pkg} gives 'The following packages have unmet dependencies' and 'E: Unable to "
            "correct problems, you have held broken packages.'",
            "apt says I have held broken packages when I try to install {pkg}. I added a PPA last week if "
            "that matters",
            "help, `sudo apt install {pkg}` ends with 'you have held broken packages' on Ubuntu {ver}",
        ],
        [
            "Usually a PPA or a downloaded .deb pulled in versions that do not match your release. Start "
            "with `sudo apt update && sudo apt -f install`. Then look at `apt-mark showhold` for held "
            "packages and `apt policy {pkg}` to see which repository the conflicting version comes from.",
            "First let apt repair what it can: `sudo apt --fix-broken install`. Then check for holds with "
            "`apt-mark showhold`. If a PPA is the cause, `sudo apt install ppa-purge` and `sudo ppa-purge "
            "ppa:OWNER/NAME` bring its packages back to the Ubuntu versions.",
        ],
        [
            (
                "how do I see which PPAs I have added?",
                "They are files under /etc/apt/sources.list.d/. `ls /etc/apt/sources.list.d/` lists them. "
                "Remove one with `sudo add-apt-repository --remove ppa:OWNER/NAME`, then `sudo apt update`.",
            ),
            (
                "apt-mark showhold lists libc6-dev, I never held that",
                "Something held it for you, often a manual install script. Release it with `sudo apt-mark "
                "unhold libc6-dev`, then run `sudo apt update && sudo apt install {pkg}` again.",
            ),
        ],
        {"pkg": ["build-essential", "python3-pip", "libreoffice", "wine", "nodejs", "docker.io"]},
    ),
    Scenario(
        "packages_apt",
        [
            "How do I completely remove {pkg} including its config files?",
            "uninstalled {pkg} with apt remove but its settings are still there. how to get rid of "
            "everything",
            "what's the cleanest way to uninstall {pkg} on ubuntu?",
        ],
        [
            "`sudo apt purge {pkg}` removes the package and its system-wide configuration in /etc. Follow "
            "it with `sudo apt autoremove` to drop dependencies nothing else needs. Settings in your home "
            "directory (for example ~/.config/{pkg}) are never touched by apt; delete them yourself.",
            "Use `sudo apt purge {pkg}` instead of remove, then `sudo apt autoremove --purge` for the "
            "leftovers. Per-user settings live in your home folder, usually ~/.config/{pkg} or a dot "
            "directory, and have to be deleted by hand.",
        ],
        [
            (
                "is there a way to list packages that were removed but still have config left?",
                "Yes: `dpkg -l | grep '^rc'` shows them (rc means removed, config files remain). To purge "
                "all "
                "of them: `dpkg -l | awk '/^rc/ {print $2}' | xargs sudo apt purge -y`.",
            ),
            (
                "it was installed as a snap, apt says it's not installed",
                "Then remove it with snap: `sudo snap remove --purge {pkg}`. `snap list` shows everything "
                "installed as a snap.",
            ),
        ],
        {"pkg": ["vlc", "thunderbird", "gimp", "remmina", "filezilla", "transmission"]},
    ),
    # ------------------------------------------------------------------ dnf packages (Fedora)
    Scenario(
        "packages_dnf",
        [
            "Fedora here. after today's `dnf upgrade` {app} crashes on start. can I roll back?",
            "how do I undo the last dnf update on Fedora {fver}? something broke {app}",
            "{app} broken since the last update (fedora {fver}), is there a dnf rollback?",
        ],
        [
            "dnf keeps a transaction history. `sudo dnf history list` shows the transactions with IDs, "
            "`sudo dnf history info ID` what changed, and `sudo dnf history undo ID` reverts it, as long "
            "as the older versions are still in the repositories.",
            "Find the upgrade in `sudo dnf history list`, then `sudo dnf history undo ID`. If you only need "
            "one package back, `sudo dnf downgrade {app}` is simpler.",
        ],
        [
            (
                "the downgrade worked. how do I stop dnf upgrading {app} again?",
                "Lock the version: `sudo dnf versionlock add {app}` (on dnf4 install "
                "python3-dnf-plugin-versionlock first; dnf5 has it built in). Remove the lock later with "
                "`sudo dnf versionlock delete {app}`.",
            ),
            (
                "where does dnf keep older kernels if the kernel is the problem?",
                "Fedora keeps the last three kernels installed (installonly_limit=3 in /etc/dnf/dnf.conf), "
                "so you can pick an older one in the GRUB menu without downgrading anything.",
            ),
        ],
        {
            "app": ["firefox", "thunderbird", "gimp", "inkscape", "libreoffice-writer"],
            "fver": ["38", "39", "40"],
        },
    ),
    Scenario(
        "packages_dnf",
        [
            "on Fedora, how do I find which package provides the `{cmd}` command? `dnf install {cmd}` didn't "
            "work",
            "bash: {cmd}: command not found on my Fedora box. what package is it in?",
            "which fedora package has {cmd} in it?",
        ],
        [
            "`dnf provides '*/bin/{cmd}'` searches every package's file list and shows which one ships it. "
            "For {cmd} it is {cmdpkg}, so `sudo dnf install {cmdpkg}`.",
            "Ask dnf: `dnf provides /usr/bin/{cmd}`. It prints the package name ({cmdpkg} in this case), "
            "and `sudo dnf install {cmdpkg}` gets you the command.",
        ],
        [
            (
                "and on Ubuntu what's the equivalent?",
                "On Ubuntu install apt-file (`sudo apt install apt-file && sudo apt-file update`) and run "
                "`apt-file search bin/{cmd}`. Package names often differ from Fedora's.",
            ),
            (
                "installed it but the shell still says command not found",
                "Your shell caches command locations. Run `hash -r` or open a new terminal. `rpm -ql "
                "{cmdpkg} "
                "| grep bin` shows where the command was installed.",
            ),
        ],
        {
            "cmd,cmdpkg": [
                ("dig", "bind-utils"),
                ("ifconfig", "net-tools"),
                ("htpasswd", "httpd-tools"),
                ("killall", "psmisc"),
                ("lsusb", "usbutils"),
                ("nslookup", "bind-utils"),
            ]
        },
    ),
    Scenario(
        "packages_dnf",
        [
            "dnf takes forever 'downloading metadata' every time I install something",
            "every dnf command refreshes metadata for minutes on Fedora {fver}. normal?",
            "how can I make dnf faster? updates are painfully slow",
        ],
        [
            "dnf refreshes repository metadata whenever its cache has expired. Add `metadata_expire=6h` and "
            "`max_parallel_downloads=10` under [main] in /etc/dnf/dnf.conf. `sudo dnf makecache` refreshes "
            "the cache once on purpose.",
            "Add `max_parallel_downloads=10` to the [main] section of /etc/dnf/dnf.conf. If the cache is "
            "corrupted, `sudo dnf clean all` followed by `sudo dnf makecache` rebuilds it. Disabling repos "
            "you do not use (enabled=0 in their file under /etc/yum.repos.d/) also helps.",
        ],
        [
            (
                "does fastestmirror help?",
                "`fastestmirror=True` in dnf.conf makes dnf choose mirrors by latency. It helps on some "
                "connections and slows the start on others because it tests them first, so try and compare.",
            ),
        ],
        {"fver": ["38", "39", "40"]},
    ),
    # ------------------------------------------------------------------ disk full
    Scenario(
        "disk_full",
        [
            "my root partition is 100% full and I can't even save files. how do I find what's eating the "
            "space?",
            "df -h shows / at {pct}% used, where did all the space go??",
            "disk full on Ubuntu, 'No space left on device'. what can I safely delete?",
        ],
        [
            "Start with `sudo du -xh --max-depth=1 / | sort -h` to see which top-level directory is big, "
            "then drill down the same way. Common culprits are /var/log, /var/cache/apt and old snaps. "
            "`sudo apt clean` empties the package cache and `sudo journalctl --vacuum-size=200M` trims the "
            "system journal.",
            "Find the big directories with `sudo du -xh --max-depth=1 / 2>/dev/null | sort -h | tail`; -x "
            "keeps du on the root filesystem. For something interactive, `sudo apt install ncdu` and run "
            "`sudo ncdu -x /`. Safe quick wins: `sudo apt clean`, `sudo apt autoremove` and `sudo "
            "journalctl --vacuum-time=2weeks`.",
        ],
        [
            (
                "/var/log/journal is {size}G, is it ok to delete it by hand?",
                "Don't delete the files directly; let journald do it: `sudo journalctl --vacuum-size=500M`. "
                "To cap it for good, set `SystemMaxUse=500M` in /etc/systemd/journald.conf and run `sudo "
                "systemctl restart systemd-journald`.",
            ),
            (
                "it's /var/lib/snapd, about {size}G. can I clean that?",
                "Snap keeps older revisions of every snap. `snap list --all` shows them; the ones marked "
                "disabled can be removed with `sudo snap remove NAME --revision=REV`. Keep fewer with `sudo "
                "snap set system refresh.retain=2`.",
            ),
            (
                "docker is the big one, /var/lib/docker is {size}G",
                "Use Docker's own cleanup: `docker system df` shows what uses space and `docker system "
                "prune` removes stopped containers, unused networks and dangling images. `-a` also removes "
                "unused images; add `--volumes` only if no volume holds data you need.",
            ),
        ],
        {"pct": ["97", "99", "100"], "size": ["4", "7", "12", "18", "25"]},
    ),
    Scenario(
        "disk_full",
        [
            "I deleted a {size}GB log file but df still shows the disk as full. why?",
            "removed a huge file from /var/log and df -h didn't change at all",
            "rm'd a big log, space not freed. what am I missing?",
        ],
        [
            "A process still has the file open, so the space is freed only when it closes it. `sudo lsof "
            "+L1` lists deleted files that are still open, with the process holding them. Restart that "
            "service and the space comes back.",
            "The space of a deleted file is released only when the last process holding it open closes it. "
            "Find it with `sudo lsof -nP +L1`, then restart or stop the owning process. Next time truncate "
            "instead of deleting: `sudo truncate -s 0 FILE` frees the space at once.",
        ],
        [
            (
                "lsof shows {svc} holding it. is a restart safe?",
                "Restarting {svc} with `sudo systemctl restart {svc}` is the usual fix; it briefly "
                "interrupts the service. Check `df -h` afterwards, and make sure logrotate handles its logs "
                "(see /etc/logrotate.d/) so they do not grow that big again.",
            ),
        ],
        {"size": ["6", "9", "14", "30"], "svc": ["nginx", "apache2", "rsyslog", "mysql"]},
    ),
    Scenario(
        "disk_full",
        [
            "No space left on device but df -h says {pct2}% used. what?",
            "can't create files, 'no space left', yet there are gigabytes free according to df",
            "weird: touch fails with 'No space left on device' but the disk is only {pct2}% full",
        ],
        [
            "You are probably out of inodes, not bytes. Check with `df -i`. Millions of tiny files do that, "
            "often in a cache or session directory. `sudo du --inodes -x / 2>/dev/null | sort -n | tail` "
            "shows the directories with the most files.",
            "Run `df -i`: if IUse% is at 100% the filesystem has run out of inodes. Look for directories "
            "with huge numbers of small files, for example with `sudo du --inodes -x / | sort -n | tail`, "
            "and delete what is not needed (old PHP sessions, mail queues, caches).",
        ],
        [
            (
                "it's /var/lib/php/sessions with millions of files",
                "Those are old PHP sessions and safe to delete: `sudo find /var/lib/php/sessions -type f "
                "-mtime +1 -delete`. Check that the phpsessionclean timer is active (`systemctl "
                "list-timers | "
                "grep php`) so it does not happen again.",
            ),
        ],
        {"pct2": ["45", "60", "72"]},
    ),
    # ------------------------------------------------------------------ permissions
    Scenario(
        "permissions",
        [
            "./{script} gives 'Permission denied' even though I own the file",
            "bash: ./{script}: Permission denied. I'm the owner, what gives",
            "wrote a small shell script ({script}), can't run it, says permission denied",
        ],
        [
            "Owning a file does not make it executable. Add the execute bit with `chmod +x {script}` (or "
            "`chmod u+x` for just you) and run `./{script}` again. `ls -l {script}` should then show an x, "
            "e.g. `-rwxr--r--`.",
            "The file lacks the execute permission. `chmod u+x {script}` fixes that. Also make sure the "
            "first line is a shebang such as `#!/bin/bash`. Alternatively run it without the bit: `bash "
            "{script}`.",
        ],
        [
            (
                "did chmod +x, now it says 'bad interpreter: /bin/bash^M'",
                "The file has Windows line endings (CRLF). Convert it with `sed -i 's/\\r$//' {script}` or "
                "`dos2unix {script}` and it will run.",
            ),
            (
                "chmod +x doesn't change anything, ls -l still shows no x. it's on my USB stick",
                "The stick is probably FAT32 or exFAT, which has no Unix permissions; the mount options "
                "decide them. Copy the script to your home directory and run it there, or use `bash "
                "{script}`.",
            ),
        ],
        {"script": ["backup.sh", "deploy.sh", "start.sh", "cleanup.sh", "sync.sh"]},
    ),
    Scenario(
        "permissions",
        [
            "my web app can't write to {dir}/uploads, nginx logs show permission denied",
            "PHP can't save uploaded files to {dir}/uploads. what permissions should I set?",
            "uploads fail with 'failed to open stream: Permission denied' in {dir}/uploads",
        ],
        [
            "The web server runs as www-data, so that user needs write access to the upload directory: "
            "`sudo chown -R www-data:www-data {dir}/uploads` and `sudo chmod 755 {dir}/uploads`. Avoid "
            "chmod 777; it lets every user on the machine write there.",
            "Give the directory to the web server user: `sudo chown -R www-data:www-data {dir}/uploads`. "
            "Directories need 755 and files 644: `sudo find {dir}/uploads -type d -exec chmod 755 {} +` "
            "and `sudo find {dir}/uploads -type f -exec chmod 644 {} +`.",
        ],
        [
            (
                "I also need to edit files there with my own user",
                "Add yourself to the www-data group: `sudo usermod -aG www-data $USER`, make the directory "
                "group-writable with `sudo chmod 775 {dir}/uploads`, then log out and back in so the new "
                "group applies.",
            ),
            (
                "permissions look right now but it still fails",
                "Every parent directory needs the x bit for www-data too. `namei -l {dir}/uploads` shows "
                "the permissions along the whole path. On Fedora or RHEL, SELinux may also block it; check "
                "`sudo ausearch -m avc -ts recent`.",
            ),
        ],
        {"dir": ["/var/www/html", "/var/www/shop", "/srv/app", "/var/www/blog"]},
    ),
    Scenario(
        "permissions",
        [
            "what does chmod 644 vs 755 actually mean?",
            "can someone explain chmod numbers? 600, 644, 755...",
            "why is it chmod 600 for ssh keys and 644 for normal files? how do the numbers work",
        ],
        [
            "Each digit is owner, group, others; read=4, write=2, execute=1, added up. 644 is rw-r--r--: "
            "you read and write, everyone else only reads (normal files). 755 is rwxr-xr-x: the same plus "
            "execute, for directories and scripts. 600 is rw-------: private files like SSH keys.",
            "Three digits for owner, group and others, each the sum of read (4), write (2) and execute (1). "
            "So 7 = rwx, 6 = rw-, 5 = r-x, 4 = r--. 644 suits ordinary files, 755 programs and "
            "directories, 600 secrets only the owner may read.",
        ],
        [
            (
                "and what does the x mean on a directory?",
                "On a directory, x lets you enter it and reach the files inside by name; r lets you list its "
                "contents. That is why directories are usually 755 or 700.",
            ),
            (
                "how do I set the permissions symbolically instead?",
                "chmod takes who (u, g, o, a), an operator (+, -, =) and the bits: `chmod g+w file` adds "
                "group write, `chmod o-r file` removes read for others, `chmod u=rw,go=r file` equals 644.",
            ),
            (
                "how do I apply 644 to files but 755 to folders recursively?",
                "Use find to separate them: `find DIR -type d -exec chmod 755 {} +` and `find DIR -type f "
                "-exec chmod 644 {} +`. A plain `chmod -R 644` would make directories unenterable.",
            ),
        ],
    ),
    # ------------------------------------------------------------------ ssh keys
    Scenario(
        "ssh_keys",
        [
            "how do I set up SSH key login to my server {host} so I don't type the password every time?",
            "want passwordless ssh from my laptop to {host}. steps?",
            "what's the right way to log into {host} with an ssh key instead of a password?",
        ],
        [
            "On your laptop create a key: `ssh-keygen -t ed25519 -C laptop` (a passphrase is recommended). "
            "Copy the public key to the server with `ssh-copy-id {user}@{host}`. After that `ssh "
            "{user}@{host}` uses the key.",
            "Generate a key pair with `ssh-keygen -t ed25519`; it lands in ~/.ssh/id_ed25519 and "
            "id_ed25519.pub. `ssh-copy-id {user}@{host}` appends the public key to ~/.ssh/authorized_keys "
            "on the server. Test with `ssh {user}@{host}`; it should not ask for the account password.",
        ],
        [
            (
                "works. should I disable password login now?",
                "Yes, once key login works. In /etc/ssh/sshd_config set `PasswordAuthentication no` (files "
                "in "
                "/etc/ssh/sshd_config.d/ can override it, check them too), then `sudo systemctl reload ssh`. "
                "Keep your session open and test from a second terminal first.",
            ),
            (
                "it still asks for a passphrase every time",
                "That is the key's passphrase, not the server password. Load the key into the agent once per "
                "session with `ssh-add ~/.ssh/id_ed25519`; most desktops do this automatically via their "
                "keyring.",
            ),
            (
                "ssh-copy-id isn't available on my Windows machine",
                "Append the key by hand: `type $env:USERPROFILE\\.ssh\\id_ed25519.pub | ssh {user}@{host} "
                '"mkdir -p ~/.ssh && cat >> ~/.ssh/authorized_keys"` in PowerShell, then fix the '
                "permissions on the server with `chmod 700 ~/.ssh` and `chmod 600 ~/.ssh/authorized_keys`.",
            ),
        ],
    ),
    Scenario(
        "ssh_keys",
        [
            "ssh {user}@{host} -> Permission denied (publickey). the key is in authorized_keys, I checked",
            "key auth fails with 'Permission denied (publickey)' even though I copied my id_ed25519.pub to "
            "{host}",
            "server {host} rejects my ssh key: Permission denied (publickey). password login is disabled",
        ],
        [
            "sshd refuses keys when the permissions are too open. On the server: `chmod 700 ~/.ssh` and "
            "`chmod 600 ~/.ssh/authorized_keys`, and the home directory must not be group-writable. Run "
            "`ssh -v {user}@{host}` on the client to see which keys are offered.",
            "Check the server side first: ~/.ssh must be 700, authorized_keys 600, both owned by {user}. "
            "`sudo journalctl -u ssh -n 20` on the server usually says exactly why the key was refused "
            "(look for 'bad ownership or modes').",
        ],
        [
            (
                "ssh -v says it only offers id_rsa, not my ed25519 key",
                "Tell ssh which key to use: `ssh -i ~/.ssh/id_ed25519 {user}@{host}`, or add a block to "
                "~/.ssh/config with `Host {host}`, `User {user}` and `IdentityFile ~/.ssh/id_ed25519`.",
            ),
            (
                "permissions were 775 on my home dir, fixed it and it works now. why is sshd so picky?",
                "If others can write to your home or ~/.ssh, they could replace authorized_keys and log in "
                "as you. sshd's StrictModes check refuses keys in that case, which protects you.",
            ),
        ],
    ),
    Scenario(
        "ssh_keys",
        [
            "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! when connecting to {host}. I reinstalled that "
            "server yesterday",
            "ssh refuses to connect, says host key verification failed. server {host} was just rebuilt",
            "after reinstalling {host} ssh screams about a possible man-in-the-middle attack. safe to "
            "ignore?",
        ],
        [
            "Since you reinstalled it, the server simply has new host keys. Remove the old entry with "
            "`ssh-keygen -R {host}` and connect again; ssh asks you to confirm the new fingerprint. If you "
            "did not change anything on the server, do not ignore this warning.",
            "A rebuilt server generates new host keys, so your ~/.ssh/known_hosts no longer matches. "
            "`ssh-keygen -R {host}` deletes the stale key. Compare the new fingerprint with `ssh-keygen -lf "
            "/etc/ssh/ssh_host_ed25519_key.pub` on the server console before accepting it.",
        ],
        [
            (
                "did that, but it still complains about the IP address",
                "known_hosts can hold the name and the IP separately. Run `ssh-keygen -R` for the IP address "
                "as well, e.g. `ssh-keygen -R 192.168.1.{ip}`.",
            ),
        ],
        {"ip": ["10", "20", "42", "50", "101"]},
    ),
    # ------------------------------------------------------------------ systemd services
    Scenario(
        "systemd",
        [
            "{svc} won't start after reboot. `systemctl start {svc}` says 'Job for {svc}.service failed'",
            "how do I see why {svc} fails to start? systemctl just says failed",
            "{svc}.service: Failed with result 'exit-code'. where do I look?",
        ],
        [
            "Look at the details: `systemctl status {svc}` shows the last lines of its log, and `journalctl "
            "-u {svc} -b --no-pager` gives the full log since boot. The real error (bad config, port in "
            "use, permissions) is almost always in there.",
            "Run `sudo journalctl -xeu {svc}` right after the failure; it shows the unit's log with "
            "explanations. For {svc} also test the configuration: {check}.",
        ],
        [
            (
                "log says 'Address already in use' on port {port}",
                "Another process holds the port. `sudo ss -ltnp 'sport = :{port}'` shows which one. Stop "
                "that process or change the port in {svc}'s configuration, then `sudo systemctl restart "
                "{svc}`.",
            ),
            (
                "it works when I start it by hand, just not at boot",
                "Make sure it is enabled: `sudo systemctl enable {svc}`. If it starts before the network is "
                "up, add `After=network-online.target` and `Wants=network-online.target` in an override "
                "created with `sudo systemctl edit {svc}`.",
            ),
        ],
        {
            "svc,check": [
                ("nginx", "`sudo nginx -t`"),
                ("apache2", "`sudo apache2ctl configtest`"),
                ("ssh", "`sudo sshd -t`"),
                ("haproxy", "`haproxy -c -f /etc/haproxy/haproxy.cfg`"),
            ]
        },
    ),
    Scenario(
        "systemd",
        [
            "I have a python script {path} that should run all the time and start at boot. how do I make it "
            "a systemd service?",
            "how to create a systemd unit for my own app ({path})?",
            "what's the proper way to autostart {path} on a server? cron @reboot feels hacky",
        ],
        [
            "Create /etc/systemd/system/myapp.service with:\n[Unit]\nDescription=My app\n"
            "After=network.target\n\n[Service]\nExecStart=/usr/bin/python3 {path}\nRestart=on-failure\n"
            "User={user}\n\n[Install]\nWantedBy=multi-user.target\n\nThen `sudo systemctl daemon-reload` and "
            "`sudo systemctl enable --now myapp`.",
            "Write a unit file /etc/systemd/system/myapp.service: a [Service] section with "
            "`ExecStart=/usr/bin/python3 {path}`, `User={user}` and `Restart=on-failure`, and an [Install] "
            "section with `WantedBy=multi-user.target`. Run `sudo systemctl daemon-reload`, then `sudo "
            "systemctl enable --now myapp`. Logs go to `journalctl -u myapp`.",
        ],
        [
            (
                "I edited the unit file but systemctl still uses the old one",
                "systemd caches unit files. After every edit run `sudo systemctl daemon-reload`, then `sudo "
                "systemctl restart myapp`.",
            ),
            (
                "how do I pass environment variables to it?",
                "Add `Environment=KEY=value` lines in the [Service] section, or put them in a file and "
                "reference it with `EnvironmentFile=/etc/myapp.env`. Reload and restart afterwards.",
            ),
            (
                "can it run without root, as my own user service?",
                "Yes: put the unit in ~/.config/systemd/user/myapp.service (without User=) and use "
                "`systemctl "
                "--user enable --now myapp`. To keep it running after you log out, `sudo loginctl "
                "enable-linger {user}`.",
            ),
        ],
        {
            "path": [
                "/opt/bot/bot.py",
                "/srv/metrics/collect.py",
                "/opt/api/server.py",
                "/home/{user}/app/main.py",
            ]
        },
    ),
    Scenario(
        "systemd",
        [
            "how do I list all services that failed on my system?",
            "boot says 'Failed to start some units'. how to see which?",
            "is there a command to show every systemd unit in failed state?",
        ],
        [
            "`systemctl --failed` lists the failed units. For each one, `systemctl status NAME` and "
            "`journalctl -u NAME -b` show why. Once fixed, `sudo systemctl reset-failed` clears the list.",
            "Run `systemctl list-units --state=failed`. Then check each with `journalctl -b -u NAME`. If a "
            "unit is something you do not need, `sudo systemctl disable NAME` stops it from starting at "
            "boot.",
        ],
        [
            (
                "and how do I see how long each service takes at boot?",
                "`systemd-analyze blame` lists units by startup time, and `systemd-analyze critical-chain` "
                "shows the chain that delayed reaching the default target.",
            ),
            (
                "one of them is NetworkManager-wait-online and it adds a minute to boot",
                "It waits until the network is up for units that ask for it. On a desktop you can usually "
                "disable it: `sudo systemctl disable NetworkManager-wait-online.service`. On a server, find "
                "out first which service depends on it.",
            ),
        ],
    ),
    # ------------------------------------------------------------------ networking and DNS
    Scenario(
        "networking_dns",
        [
            "I can ping 8.8.8.8 but not google.com. DNS broken on Ubuntu {ver}?",
            "websites don't load, 'Temporary failure in name resolution', but ping to IP addresses works",
            "apt update fails with 'Could not resolve archive.ubuntu.com' but the network is up",
        ],
        [
            "Your connection works, only name resolution fails. Check what systemd-resolved uses with "
            "`resolvectl status` and test with `resolvectl query example.com`. If no DNS server is listed, "
            "set one in the connection's settings (or in netplan) and `sudo systemctl restart "
            "systemd-resolved`.",
            "That is a DNS problem. `ls -l /etc/resolv.conf` should point to "
            "../run/systemd/resolve/stub-resolv.conf; if something replaced it, restore it with `sudo ln -sf "
            "../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf`. Then `resolvectl status` shows the "
            "servers in use.",
        ],
        [
            (
                "how do I set DNS servers permanently with netplan?",
                "In your file under /etc/netplan/ add to the interface:\n  nameservers:\n    addresses: "
                "[1.1.1.1, 9.9.9.9]\nThen `sudo netplan apply` and check with `resolvectl status`.",
            ),
            (
                "how can I flush the DNS cache?",
                "With systemd-resolved: `resolvectl flush-caches`. `resolvectl statistics` shows the cache "
                "size before and after.",
            ),
        ],
    ),
    Scenario(
        "networking_dns",
        [
            "how do I give my Ubuntu server a static IP 192.168.1.{ip}? it's using netplan",
            "need a fixed IP on {iface} on ubuntu server {ver}, netplan confuses me",
            "static ip with netplan, can someone show me a working config for {iface}?",
        ],
        [
            "Edit the YAML in /etc/netplan/ (e.g. 50-cloud-init.yaml):\nnetwork:\n  version: 2\n  "
            "ethernets:\n    {iface}:\n      dhcp4: false\n      addresses: [192.168.1.{ip}/24]\n      "
            "routes:\n        - to: default\n          via: 192.168.1.1\n      nameservers:\n        "
            "addresses: [192.168.1.1]\nRun `sudo netplan try`; it rolls back after 120 seconds unless you "
            "confirm.",
            "In your netplan file set, under {iface}: `dhcp4: false`, `addresses: [192.168.1.{ip}/24]`, a "
            "default route (`- to: default` with `via: 192.168.1.1`) and `nameservers: addresses: "
            "[192.168.1.1]`. Indentation matters in YAML. Apply it with `sudo netplan try`, which reverts "
            "if you lose the connection.",
        ],
        [
            (
                "how do I find the interface name?",
                "`ip -br link` lists them and `ip -br addr` also shows their addresses. Names like enp3s0 or "
                "ens18 are normal on modern systems.",
            ),
            (
                "netplan warns the file permissions are too open",
                "Netplan files should be readable by root only: `sudo chmod 600 /etc/netplan/*.yaml`. The "
                "warning goes away and the file keeps working.",
            ),
        ],
        {"ip": ["10", "20", "50", "77", "120"], "iface": ["enp3s0", "ens18", "eno1", "enp0s31f6"]},
    ),
    Scenario(
        "networking_dns",
        [
            "how can I check whether my app is actually listening on port {port}?",
            "connection refused on port {port} from another machine. how do I debug?",
            "my service runs but nothing can connect to port {port} from the LAN",
        ],
        [
            "On the server, `sudo ss -ltnp | grep :{port}` shows the process listening on that port and the "
            "address it is bound to. If it says 127.0.0.1:{port} it only accepts local connections; the app "
            "must bind to 0.0.0.0 or the LAN address. Then check the firewall with `sudo ufw status`.",
            "First `sudo ss -tulpn | grep {port}` on the server: no output means nothing listens. If it "
            "listens on 127.0.0.1 only, change the bind address in the app's config. From the other machine, "
            "`nc -zv SERVER_IP {port}` tests the connection.",
        ],
        [
            (
                "it shows 0.0.0.0:{port} and is still refused from outside",
                "Then something in between blocks it. Check `sudo ufw status verbose` and allow the port "
                "with `sudo ufw allow {port}/tcp`. On a cloud server, the provider's firewall or security "
                "group needs the rule too.",
            ),
        ],
    ),
    # ------------------------------------------------------------------ cron
    Scenario(
        "cron",
        [
            "my backup script runs fine by hand but does nothing from cron",
            "cron job not running? `crontab -l` shows it but nothing happens",
            "script works in the terminal, silently fails in crontab. ideas?",
        ],
        [
            "Cron runs with a minimal environment: PATH is just /usr/bin:/bin and your shell settings are "
            "not loaded. Use absolute paths for every command and file in the script, and capture errors: "
            "`0 2 * * * /home/{user}/bin/backup.sh >> /home/{user}/backup.log 2>&1`.",
            "Usually it is the environment. Cron has a short PATH and no profile, so programs in "
            "/usr/local/bin may not be found. Put full paths in the script or set "
            "`PATH=/usr/local/bin:/usr/bin:/bin` at the top of the crontab, and redirect output to a log to "
            "see errors: `... >> /tmp/cron.log 2>&1`.",
        ],
        [
            (
                "where can I see if cron even started it?",
                "On Ubuntu cron logs to the journal: `journalctl -u cron --since today` (or `grep CRON "
                "/var/log/syslog`). Each run shows a line with the command it started.",
            ),
            (
                "the log says 'Permission denied'",
                "Make the script executable with `chmod +x /home/{user}/bin/backup.sh` and check that its "
                "first line is a shebang like `#!/bin/bash`.",
            ),
            (
                "I used % in a date command in the crontab and it breaks",
                "In a crontab line % means a newline, so escape it: `date +\\%F` instead of `date +%F`. Or "
                "move the command into the script, where % needs no escaping.",
            ),
        ],
    ),
    Scenario(
        "cron",
        [
            "how do I run a script every {interval} with cron?",
            "what's the crontab line to run {job} every {interval}?",
            "need {job} to run every {interval}. cron syntax please",
        ],
        [
            "Open your crontab with `crontab -e` and add: `{expr} {job}`. The five fields are minute, "
            "hour, day of month, month and day of week. Save, and `crontab -l` shows it.",
            "Add `{expr} {job}` via `crontab -e`. The fields are minute, hour, day-of-month, month and "
            "day-of-week; `*` means every value and `*/N` every N units.",
        ],
        [
            (
                "and to run something once at boot?",
                "Use `@reboot {job}` in the crontab. A systemd service is more robust for long-running "
                "programs, but @reboot is fine for a one-off script.",
            ),
            (
                "does it need sudo?",
                "Your own crontab runs as you. If the script needs root, add it to root's crontab with `sudo "
                "crontab -e` instead of calling sudo inside the script.",
            ),
        ],
        {
            "interval,expr": [
                ("5 minutes", "*/5 * * * *"),
                ("day at 3am", "0 3 * * *"),
                ("monday at 8:30", "30 8 * * 1"),
                ("hour", "0 * * * *"),
                ("15 minutes", "*/15 * * * *"),
            ],
            "job": ["/home/{user}/bin/sync.sh", "/opt/scripts/report.py", "/usr/local/bin/rotate-backups"],
        },
    ),
    # ------------------------------------------------------------------ grub and boot
    Scenario(
        "grub_boot",
        [
            "installed Ubuntu {ver} next to Windows, now GRUB doesn't show Windows at all",
            "dual boot: Windows entry is missing from the grub menu after installing ubuntu",
            "grub only lists ubuntu, where did my windows 11 go?",
        ],
        [
            "Since GRUB 2.06 os-prober is disabled by default. Add `GRUB_DISABLE_OS_PROBER=false` to "
            "/etc/default/grub, make sure os-prober is installed (`sudo apt install os-prober`), then run "
            "`sudo update-grub`; it should report 'Found Windows Boot Manager'.",
            "Newer GRUB versions don't run os-prober unless told to. Edit /etc/default/grub, add the line "
            "`GRUB_DISABLE_OS_PROBER=false`, save, and run `sudo update-grub`. If Windows is still not "
            "found, check that both systems boot in the same mode (UEFI or legacy).",
        ],
        [
            (
                "now it shows up. how do I make Windows the default?",
                "Set `GRUB_DEFAULT=saved` and `GRUB_SAVEDEFAULT=true` in /etc/default/grub so GRUB boots the "
                "last chosen entry, or put the exact menu title in GRUB_DEFAULT. Run `sudo update-grub` "
                "after any change.",
            ),
            (
                "the menu only shows for a split second, how to make it wait longer?",
                "In /etc/default/grub set `GRUB_TIMEOUT_STYLE=menu` and `GRUB_TIMEOUT=10`, then `sudo "
                "update-grub`.",
            ),
        ],
    ),
    Scenario(
        "grub_boot",
        [
            "after adding my second disk to /etc/fstab the system boots into emergency mode",
            "Ubuntu drops to 'You are in emergency mode' at boot since I edited fstab",
            "edited fstab, rebooted, now stuck at 'Give root password for maintenance'",
        ],
        [
            "An fstab entry that cannot be mounted stops the boot. In emergency mode enter the root "
            "password, run `mount -o remount,rw /`, fix or comment out the line in /etc/fstab, and reboot. "
            "Use the UUID from `blkid` and add `nofail` so a missing disk no longer blocks boot.",
            "Log in at the emergency prompt, remount root writable with `mount -o remount,rw /` and open "
            "/etc/fstab with nano. Comment the new line with a #, and test a corrected one with `sudo mount "
            "-a` before rebooting: it reports errors without breaking the boot. `nofail` keeps a missing "
            "drive from stopping startup.",
        ],
        [
            (
                "what does the line for an ext4 data disk look like?",
                "For example: `UUID=YOUR-UUID /mnt/data ext4 defaults,nofail 0 2`. Get the UUID with `sudo "
                "blkid /dev/{dev}1`, create the mount point with `sudo mkdir -p /mnt/data`, and test with "
                "`sudo mount -a`.",
            ),
            (
                "there is no root password on ubuntu, it won't let me in",
                "Ubuntu locks root, so use the GRUB menu instead: Advanced options, the recovery mode entry, "
                "then 'root' for a shell. Remount with `mount -o remount,rw /` and fix /etc/fstab there.",
            ),
        ],
        {"dev": ["sdb", "sdc", "nvme1n1p"]},
    ),
    Scenario(
        "grub_boot",
        [
            "after a kernel update my machine freezes at boot. how do I boot the previous kernel?",
            "new kernel {kver} breaks my {hw}, want to go back to the old one",
            "ubuntu updated the kernel to {kver} and now the {hw} doesn't work. can I use the old kernel?",
        ],
        [
            "Hold Shift (BIOS) or press Esc (UEFI) while booting to get the GRUB menu, choose 'Advanced "
            "options for Ubuntu' and pick the older kernel. Once booted, `uname -r` confirms the version.",
            "Open the GRUB menu at boot (Shift or Esc), go to 'Advanced options' and select the previous "
            "kernel. Ubuntu keeps the older one installed, so nothing needs to be downloaded.",
        ],
        [
            (
                "how do I make the old kernel the default for now?",
                'Set `GRUB_DEFAULT="Advanced options for Ubuntu>Ubuntu, with Linux {oldkver}-generic"` in '
                "/etc/default/grub (the titles must match the menu exactly) and run `sudo update-grub`.",
            ),
            (
                "can I stop the old kernel from being removed by autoremove?",
                "Mark it as manually installed: `sudo apt-mark manual linux-image-{oldkver}-generic`. "
                "autoremove then leaves it alone until you unmark it.",
            ),
        ],
        {
            "kver,oldkver": [
                ("6.8.0-45", "6.8.0-40"),
                ("6.5.0-35", "6.5.0-28"),
                ("5.15.0-105", "5.15.0-101"),
            ],
            "hw": ["wifi", "graphics", "touchpad", "sound"],
        },
    ),
    # ------------------------------------------------------------------ find and grep
    Scenario(
        "find_grep",
        [
            "how do I find all files bigger than {big} on my system?",
            "find command to list large files, say over {big}?",
            "looking for huge files eating my disk, anything above {big}. how?",
        ],
        [
            "`sudo find / -xdev -type f -size +{bigf} -exec ls -lh {} + 2>/dev/null` lists them with sizes. "
            "-xdev keeps find on one filesystem and 2>/dev/null hides permission errors.",
            "Use `find ~ -type f -size +{bigf}` for your home, or `sudo find / -xdev -type f -size +{bigf} "
            "2>/dev/null` for the whole root filesystem. Add `-printf '%s %p\\n' | sort -n` to sort them by "
            "size.",
        ],
        [
            (
                "and only files changed in the last 7 days?",
                "Add `-mtime -7`: `find ~ -type f -size +{bigf} -mtime -7`. -mtime counts days; use -mmin "
                "for minutes.",
            ),
        ],
        {"big,bigf": [("1 GB", "1G"), ("500 MB", "500M"), ("100 MB", "100M"), ("2 GB", "2G")]},
    ),
    Scenario(
        "find_grep",
        [
            "how do I search for a string like '{needle}' in all files under {tree}?",
            "need to find which file contains {needle}, somewhere in {tree}",
            "grep recursively for '{needle}' in {tree}, how?",
        ],
        [
            "`grep -rn '{needle}' {tree}` searches recursively and prints file names with line numbers. Add "
            "-i to ignore case, or -l to list only the file names.",
            "Use `grep -rnw {tree} -e '{needle}'`: -r recurses, -n shows line numbers, -w matches whole "
            "words. Add `--include='*.conf'` to limit it to certain files.",
        ],
        [
            (
                "it's slow because of a huge node_modules folder, can I skip it?",
                "Yes: `grep -rn --exclude-dir=node_modules '{needle}' {tree}`. You can repeat --exclude-dir. "
                "ripgrep (`rg '{needle}'`) skips ignored folders automatically and is much faster.",
            ),
            (
                "how do I replace it in all those files?",
                "Combine grep and sed: `grep -rl '{needle}' {tree} | xargs sed -i 's/{needle}/NEW_VALUE/g'`. "
                "Make a backup first, or use `sed -i.bak` to keep copies.",
            ),
        ],
        {
            "needle": ["listen 80", "DB_PASSWORD", "PermitRootLogin", "max_connections", "api_key"],
            "tree": ["/etc", "/srv/app", "~/projects", "/var/www"],
        },
    ),
    Scenario(
        "find_grep",
        [
            "how do I find every .{ext} file under my home directory?",
            "find command to locate all *.{ext} files?",
            "is there a quick way to list all my .{ext} files?",
        ],
        [
            "`find ~ -type f -name '*.{ext}'` does it. Quote the pattern so the shell does not expand it; "
            "-iname makes the match case-insensitive.",
            "Run `find ~ -type f -iname '*.{ext}'`. If plocate is installed, `locate '*.{ext}'` is faster "
            "because it uses a prebuilt index (refresh it with `sudo updatedb`).",
        ],
        [
            (
                "how do I delete the ones older than 30 days?",
                "Check the list first with `find ~ -type f -name '*.{ext}' -mtime +30`, then add -delete at "
                "the end of the same command. -delete must come last, or it deletes everything matched "
                "before the other tests.",
            ),
            (
                "can I copy them all into one folder?",
                "`find ~ -type f -name '*.{ext}' -exec cp -t ~/collected {} +` copies them (create "
                "~/collected first). Files with the same name overwrite each other; add `--backup=numbered` "
                "to cp to keep both.",
            ),
        ],
        {"ext": ["log", "tmp", "iso", "bak", "pdf"]},
    ),
    # ------------------------------------------------------------------ processes
    Scenario(
        "processes",
        [
            "{app} froze and the window won't close. how do I kill it from the terminal?",
            "how to force quit {app} on linux?",
            "{app} is hanging at 100% cpu, how do I stop it?",
        ],
        [
            "`pkill {proc}` sends it the normal terminate signal. If it is still there after a few seconds, "
            "`pkill -9 {proc}` kills it outright. To see the process first: `pgrep -a {proc}`.",
            "Find its PID with `pgrep -a {proc}` or `ps aux | grep {proc}`, then `kill PID`. If it ignores "
            "that, `kill -9 PID` forces it. On an X11 desktop, `xkill` lets you click the frozen window "
            "instead.",
        ],
        [
            (
                "whole desktop is frozen, even the mouse",
                "Switch to a text console with Ctrl+Alt+F3, log in and run `top` to find the culprit, then "
                "kill it. Ctrl+Alt+F1 or F2 brings you back to the desktop.",
            ),
            (
                "what's the difference between kill and kill -9?",
                "kill sends SIGTERM, which asks the program to exit and lets it save state and clean up. "
                "kill -9 sends SIGKILL, which the kernel enforces at once; nothing is saved. Use -9 only "
                "when TERM does not work.",
            ),
        ],
        {
            "app,proc": [
                ("Firefox", "firefox"),
                ("Chrome", "chrome"),
                ("Thunderbird", "thunderbird"),
                ("VS Code", "code"),
                ("Slack", "slack"),
            ]
        },
    ),
    Scenario(
        "processes",
        [
            "my machine gets super slow. how do I see which process eats all the RAM?",
            "how to find what's using memory on ubuntu? free -h says only {free}M available",
            "system swapping like crazy, what's using the memory?",
        ],
        [
            "Run `top` and press Shift+M to sort by memory, or `ps aux --sort=-%mem | head` for a one-off "
            "list. `htop` (sudo apt install htop) is friendlier. In `free -h` the 'available' column is the "
            "one that matters.",
            "`ps -eo pid,comm,%mem,rss --sort=-rss | head` lists the biggest processes by resident memory. "
            "In `top`, press M to sort by memory. Linux uses spare RAM for cache, so a low 'free' number "
            "alone is normal.",
        ],
        [
            (
                "it's {proc2} using {mem}G. can I limit it?",
                "If {proc2} runs as a systemd service, run `sudo systemctl edit SERVICE` and add `[Service]` "
                "with `MemoryMax={limit}G`. For a command you start yourself, `systemd-run --user --scope -p "
                "MemoryMax={limit}G COMMAND` does the same.",
            ),
            (
                "should I add swap?",
                "A little swap helps avoid the OOM killer when memory spikes. Check what you have with "
                "`swapon --show`. A 2-4 GB swap file is a reasonable start on a desktop.",
            ),
        ],
        {
            "free": ["180", "250", "320"],
            "proc2": ["java", "node", "a python script", "mysqld"],
            "mem,limit": [("6", "4"), ("9", "6"), ("12", "8")],
        },
    ),
    Scenario(
        "processes",
        [
            "which process is using port {port}? my app says address already in use",
            "'bind: address already in use' on {port}. how do I find and stop the other thing?",
            "can't start my dev server on {port}, something else has it",
        ],
        [
            "`sudo ss -ltnp 'sport = :{port}'` shows the listening process and its PID (`sudo lsof -i "
            ":{port}` "
            "works too). Stop it properly if it is a service (`sudo systemctl stop NAME`), or `kill PID` if "
            "it is a leftover of your own app.",
            "Use `sudo lsof -i :{port}` or `sudo ss -ltnp | grep :{port}`. Both print the PID and program "
            "name. Often it is an old instance of your own app still running in another terminal or in the "
            "background.",
        ],
        [
            (
                "it's an old node process. can I kill all of them at once?",
                "`pkill -f node` kills every process whose command line contains node, so check what would "
                "match first with `pgrep -af node`.",
            ),
        ],
    ),
    Scenario(
        "processes",
        [
            "how do I keep a command running after I close the SSH session?",
            "my long rsync dies when my ssh connection drops. how to avoid that?",
            "need to run a 3 hour job on {host} over ssh without keeping my laptop connected",
        ],
        [
            "Start it inside tmux or screen: run `tmux`, start the command, detach with Ctrl+b then d. "
            "Later `tmux attach` brings it back, even from a new SSH session. For a quick one-off, `nohup "
            "COMMAND > out.log 2>&1 &` also survives the logout.",
            "Use a terminal multiplexer: `tmux new -s job`, run the command, press Ctrl+b d to detach. "
            "Reconnect with `tmux attach -t job`. Without tmux, `nohup COMMAND &` ignores the hangup signal "
            "sent at logout.",
        ],
        [
            (
                "I already started it without tmux, can I still save it?",
                "Press Ctrl+z to suspend it, `bg` to continue it in the background, then `disown -h %1` so "
                "the shell does not send it SIGHUP on logout. Its output still goes to the old terminal, so "
                "check progress another way.",
            ),
        ],
    ),
    # ------------------------------------------------------------------ users and sudo
    Scenario(
        "users_sudo",
        [
            "'{user} is not in the sudoers file. This incident will be reported.' how do I fix this?",
            "new user {user} can't use sudo. how do I give them admin rights?",
            "how do I make {user} an admin on ubuntu {ver}?",
        ],
        [
            "Log in as a user who has sudo (or root) and add {user} to the sudo group: `sudo usermod -aG "
            "sudo {user}`. On Fedora and other Red Hat systems the group is wheel. {user} must log out and "
            "in again before it takes effect.",
            "Membership in the sudo group grants admin rights on Ubuntu: `sudo usermod -aG sudo {user}` "
            "(wheel instead of sudo on Fedora). Don't forget -a; without it usermod replaces all their other "
            "groups. Then log out and back in; `groups` should list sudo.",
        ],
        [
            (
                "I have no other admin account, only this one",
                "Boot into recovery mode from the GRUB menu (Advanced options, then the recovery entry), "
                "choose 'root', run `mount -o remount,rw /` and then `usermod -aG sudo {user}`. Reboot "
                "afterwards.",
            ),
            (
                "can I let them run only one command as root?",
                "Yes, with a sudoers rule. Run `sudo visudo -f /etc/sudoers.d/{user}` and add `{user} "
                "ALL=(root) /usr/bin/systemctl restart nginx` (adjust the command). visudo checks the syntax "
                "before saving.",
            ),
        ],
    ),
    Scenario(
        "users_sudo",
        [
            "how do I create a new user account from the command line on ubuntu?",
            "what's the difference between useradd and adduser? I want to add a user {user}",
            "adding a user {user} on my server, which command should I use?",
        ],
        [
            "`sudo adduser {user}` is the friendly way on Debian and Ubuntu: it creates the home directory, "
            "copies the default files and asks for a password. useradd is the low-level tool; with it you "
            "need `sudo useradd -m -s /bin/bash {user}` and then `sudo passwd {user}`.",
            "Use `sudo adduser {user}`; it is interactive and sets up everything. useradd exists on every "
            "distribution but does nothing extra unless you pass options like -m (home directory) and -s "
            "(shell).",
        ],
        [
            (
                "how do I delete a user and their home directory?",
                "`sudo deluser --remove-home {user}` on Ubuntu, or `sudo userdel -r {user}` anywhere. Check "
                "first that nothing important is left in /home/{user}.",
            ),
            (
                "how can I force them to change the password on first login?",
                "`sudo passwd --expire {user}` (or `sudo chage -d 0 {user}`) marks the password as expired, "
                "so they must choose a new one at the next login.",
            ),
        ],
    ),
    Scenario(
        "users_sudo",
        [
            "added myself to the {grp} group with usermod but it doesn't seem to work",
            "`sudo usermod -aG {grp} $USER` done, but `groups` doesn't show {grp}",
            "still permission denied after adding my user to {grp}. did I miss a step?",
        ],
        [
            "Group changes apply to new login sessions only. Log out and back in (or reboot). To test right "
            "away in the current terminal, `newgrp {grp}` starts a shell with the new group.",
            "Your running session still has the old group list. Log out completely and log in again; `id` "
            "should then list {grp}. `newgrp {grp}` gives you a shell with the group without logging out.",
        ],
        [
            (
                "why do I have to log out, can't it just reload?",
                "The group list is fixed when a process starts and inherited by its children, so running "
                "programs never see the change. A new login creates new processes with the updated list.",
            ),
        ],
        {"grp": ["docker", "dialout", "libvirt", "wireshark", "video"]},
    ),
    # ------------------------------------------------------------------ mounting drives
    Scenario(
        "mounting",
        [
            "how do I mount a USB drive from the terminal? it's not showing up in the file manager",
            "plugged an external disk into my server (no GUI). how do I access it?",
            "how to mount /dev/{dev}1 manually?",
        ],
        [
            "Find the partition with `lsblk -f` (e.g. /dev/{dev}1). Create a mount point and mount it: `sudo "
            "mkdir -p /mnt/usb && sudo mount /dev/{dev}1 /mnt/usb`. Unmount with `sudo umount /mnt/usb` "
            "before unplugging.",
            "`lsblk -f` lists disks with their filesystems; look for the new one, say {dev}1. Then `sudo "
            "mount /dev/{dev}1 /mnt` and the files are in /mnt. On desktops `udisksctl mount -b "
            "/dev/{dev}1` does the same without sudo.",
        ],
        [
            (
                "mount says 'unknown filesystem type exfat'",
                "Install the exFAT tools: `sudo apt install exfatprogs` (exfat-fuse on older releases). "
                "Kernels since 5.7 have the driver built in.",
            ),
            (
                "it mounts but I can't write as my user",
                "For FAT32, exFAT or NTFS the owner is set at mount time: `sudo mount -o uid=$(id "
                "-u),gid=$(id -g) /dev/{dev}1 /mnt/usb`. For ext4 drives change ownership of the files "
                "instead: `sudo chown -R $USER: /mnt/usb`.",
            ),
        ],
        {"dev": ["sdb", "sdc", "sdd"]},
    ),
    Scenario(
        "mounting",
        [
            "my windows partition mounts read-only in ubuntu, can't write to it",
            "NTFS drive says 'read-only file system' when I try to copy files onto it",
            "dual boot, the shared NTFS partition is read only from linux. why?",
        ],
        [
            "Windows probably left the partition hibernated because of Fast Startup, and Linux mounts it "
            "read-only to protect it. Boot Windows, disable Fast Startup (Power Options, 'Choose what the "
            "power buttons do') and shut down fully. Then it mounts read-write.",
            "Most likely Windows Fast Startup or hibernation: the NTFS volume is marked as in use. In "
            "Windows "
            "run `powercfg /h off` in an admin prompt and shut down normally. Without Windows, `sudo "
            "ntfsfix /dev/{dev}2` clears the dirty flag, but you lose anything hibernated Windows had not "
            "saved.",
        ],
        [
            (
                "how do I mount it automatically at boot?",
                "Add a line to /etc/fstab using the UUID from `sudo blkid`: `UUID=XXXX /mnt/win ntfs3 "
                "defaults,nofail,uid=1000,gid=1000 0 0` (ntfs-3g instead of ntfs3 on older kernels). Test "
                "with `sudo mount -a`.",
            ),
        ],
        {"dev": ["sda", "nvme0n1p", "sdb"]},
    ),
    Scenario(
        "mounting",
        [
            "how do I format a USB stick as {fs} from the terminal?",
            "want to wipe my external disk (/dev/{dev}) and format it to {fs}",
            "what's the command to make an {fs} filesystem on /dev/{dev}1?",
        ],
        [
            "Double-check the device with `lsblk` first, since formatting the wrong one destroys it. Unmount "
            "it (`sudo umount /dev/{dev}1`), then `sudo mkfs.{fs} /dev/{dev}1`. `-L NAME` sets a label.",
            "Identify the disk with `lsblk -f` and make sure it is the right one. Unmount any mounted "
            "partition, then create the filesystem: `sudo mkfs.{fs} -L backup /dev/{dev}1`. If there is no "
            "partition yet, create one first with `sudo fdisk /dev/{dev}` (n for new, w to write).",
        ],
        [
            (
                "which one should I pick if I also use it on Windows and Mac?",
                "exFAT: all three read and write it without extra software and it handles files over 4 GB. "
                "ext4 is better for Linux-only disks because it keeps permissions and is more robust.",
            ),
        ],
        {"fs": ["ext4", "exfat", "ext4"], "dev": ["sdb", "sdc", "sdd"]},
    ),
    # ------------------------------------------------------------------ firewall (ufw)
    Scenario(
        "firewall_ufw",
        [
            "want to enable ufw on my VPS but I'm scared of locking myself out of ssh",
            "how do I set up ufw on a remote server safely?",
            "enabling ufw over ssh, anything I should do first?",
        ],
        [
            "Allow SSH before you enable it: `sudo ufw allow OpenSSH` (or `sudo ufw allow 22/tcp`), then "
            "`sudo ufw enable`. Check with `sudo ufw status verbose`. If SSH runs on another port, allow "
            "that port instead.",
            "Order matters. First `sudo ufw default deny incoming` and `sudo ufw default allow outgoing`, "
            "then `sudo ufw allow ssh`, and only then `sudo ufw enable`. Keep your session open and try a "
            "new SSH connection before logging out.",
        ],
        [
            (
                "I also need http and https",
                "`sudo ufw allow 'Nginx Full'` if nginx is installed (it opens 80 and 443), or `sudo ufw "
                "allow 80,443/tcp`. `sudo ufw app list` shows the available profiles.",
            ),
            (
                "can I allow ssh only from my home IP?",
                "`sudo ufw allow from YOUR_IP to any port 22 proto tcp`, then delete the general rule: "
                "`sudo ufw status numbered` and `sudo ufw delete NUMBER`.",
            ),
        ],
    ),
    Scenario(
        "firewall_ufw",
        [
            "how do I remove a ufw rule I added for port {port}?",
            "ufw: I opened {port}/tcp by mistake, how do I close it again?",
            "delete ufw rule for {port}?",
        ],
        [
            "List the rules with numbers: `sudo ufw status numbered`, then `sudo ufw delete N` for the right "
            "line. Or repeat the rule with delete in front: `sudo ufw delete allow {port}/tcp`.",
            "`sudo ufw delete allow {port}/tcp` removes exactly that rule. If you don't remember the syntax "
            "you used, `sudo ufw status numbered` and `sudo ufw delete NUMBER` works too; IPv6 rules are "
            "listed separately.",
        ],
        [
            (
                "I blocked {port} but the docker container on that port is still reachable",
                "Docker writes its own iptables rules, which are processed before ufw's, so published ports "
                "bypass ufw. Publish the port on localhost only (`-p 127.0.0.1:{port}:{port}`) and put a "
                "reverse proxy in front, or add rules to the DOCKER-USER chain.",
            ),
        ],
    ),
    Scenario(
        "firewall_ufw",
        [
            "how can I see what ufw is blocking?",
            "something can't connect to my server. is ufw dropping it? where are the logs",
            "does ufw log blocked connections somewhere?",
        ],
        [
            "Turn logging on with `sudo ufw logging on`; blocked packets appear as [UFW BLOCK] lines. Watch "
            "them with `sudo journalctl -k -f | grep UFW` or `sudo tail -f /var/log/ufw.log`. DPT= in a line "
            "is the destination port that was blocked.",
            "ufw logs blocked connections when logging is on (`sudo ufw logging low`). Then `grep 'UFW "
            "BLOCK' /var/log/ufw.log | tail` shows recent ones, with SRC (source address) and DPT "
            "(destination port).",
        ],
        [
            (
                "the log is flooded with blocks from random IPs. normal?",
                "Yes, every public server gets constant scans. They are blocked, which is the point. `sudo "
                "ufw logging low` keeps the noise down, and fail2ban can ban addresses that keep trying SSH.",
            ),
        ],
    ),
    # ------------------------------------------------------------------ Wi-Fi drivers
    Scenario(
        "wifi_drivers",
        [
            "no wifi adapter found on my {laptop} after installing ubuntu. lspci shows Broadcom {chip}",
            "ubuntu {ver} doesn't see my broadcom wireless card ({chip})",
            "wifi not working on {laptop}, broadcom chip. what driver do I need?",
        ],
        [
            "Broadcom chips need the proprietary driver. Connect by cable or phone tethering, then `sudo apt "
            "update && sudo apt install bcmwl-kernel-source` and reboot. 'Additional Drivers' in Software & "
            "Updates installs the same package.",
            "For most Broadcom cards install the wl driver: `sudo apt install bcmwl-kernel-source` (you need "
            "a wired or USB-tethered connection first). Check the exact chip with `lspci -nnk | grep -iA3 "
            "net`; a few older chips use firmware-b43-installer instead.",
        ],
        [
            (
                "installed it, still nothing after reboot",
                "If Secure Boot is on, the new module must be enrolled: the install asks for a password and "
                "after reboot a blue MOK screen appears where you choose 'Enroll MOK'. `mokutil --sb-state` "
                "shows whether Secure Boot is enabled. Also check `rfkill list` for a blocked radio.",
            ),
        ],
        {
            "laptop": ["Dell Inspiron", "MacBook Pro 2015", "HP Pavilion", "old Lenovo"],
            "chip": ["BCM4360", "BCM43142", "BCM4313", "BCM4352"],
        },
    ),
    Scenario(
        "wifi_drivers",
        [
            "wifi was working yesterday, now network manager says wifi is disabled by hardware switch",
            "Wi-Fi toggle is greyed out in settings, 'wireless is disabled'",
            "my {laptop} suddenly shows no wifi networks, says the radio is off",
        ],
        [
            "Check the kill switches: `rfkill list`. 'Hard blocked: yes' means a physical switch or a key "
            "combination (often Fn plus a key with an antenna icon). 'Soft blocked: yes' is cleared with "
            "`sudo rfkill unblock wifi`.",
            "Run `rfkill list all`. If the Wi-Fi shows soft blocked, `rfkill unblock wifi` turns it back on. "
            "If it is hard blocked, use the laptop's wireless key or switch; sometimes the BIOS has a "
            "wireless setting too.",
        ],
        [
            (
                "it's soft blocked again after every reboot",
                "Something restores the state at boot. `sudo rm /var/lib/systemd/rfkill/*` clears the saved "
                "state; on some laptops blacklisting a vendor module helps (e.g. acer_wmi on Acer). Check "
                "the BIOS for a wireless option too.",
            ),
        ],
        {"laptop": ["Acer Aspire", "ThinkPad", "Asus Zenbook", "Dell Latitude"]},
    ),
    Scenario(
        "wifi_drivers",
        [
            "my usb wifi dongle (Realtek {rtl}) isn't detected. lsusb shows it but there's no wlan interface",
            "how do I install a driver for a realtek {rtl} usb wifi adapter on ubuntu {ver}?",
            "{rtl} usb adapter not working on ubuntu, any idea?",
        ],
        [
            "Check first whether the kernel already has a driver: `lsusb` for the ID and `sudo dmesg | grep "
            "-i rtl` after plugging in. If not, out-of-tree drivers are built with DKMS: `sudo apt install "
            "dkms build-essential linux-headers-$(uname -r)`, then run the driver's DKMS install so it "
            "rebuilds on kernel updates.",
            "Newer kernels support many Realtek chips (rtw88 and rtw89 drivers). Check `uname -r`; on an LTS "
            "release the hardware enablement kernel is often the easiest fix: `sudo apt install "
            "linux-generic-hwe-{ver}`. Otherwise install dkms and the kernel headers and build the vendor "
            "driver, so it survives kernel updates.",
        ],
        [
            (
                "how do I check the driver module is loaded?",
                "`lsmod | grep -i rtw` or `lsmod | grep 88` shows Realtek modules, and `iw dev` should now "
                "list a wlan interface. `dkms status` shows the DKMS-built modules and for which kernels.",
            ),
        ],
        {"rtl": ["RTL8821CU", "RTL8812BU", "RTL8188EUS"], "ver": ["20.04", "22.04", "24.04"]},
    ),
    # ------------------------------------------------------------------ swap and memory
    Scenario(
        "swap_memory",
        [
            "how do I add a {sw}G swap file on ubuntu?",
            "my VPS has no swap and keeps killing processes (OOM). how do I add swap?",
            "need {sw} GB of swap on a server without a swap partition",
        ],
        [
            "`sudo fallocate -l {sw}G /swapfile`, `sudo chmod 600 /swapfile`, `sudo mkswap /swapfile`, `sudo "
            "swapon /swapfile`. Make it permanent by adding `/swapfile none swap sw 0 0` to /etc/fstab. "
            "Check with `swapon --show`.",
            "Create the file with `sudo fallocate -l {sw}G /swapfile` (or `sudo dd if=/dev/zero "
            "of=/swapfile bs=1M count={swmb}` where fallocate is not supported), restrict it with `sudo "
            "chmod 600 /swapfile`, then `sudo mkswap /swapfile && sudo swapon /swapfile`. Add `/swapfile "
            "none swap sw 0 0` to /etc/fstab to keep it after a reboot.",
        ],
        [
            (
                "what's swappiness and should I change it?",
                "vm.swappiness (default 60) sets how eagerly the kernel swaps. On a desktop 10 to 20 keeps "
                "programs in RAM longer: `sudo sysctl vm.swappiness=10`, and put `vm.swappiness=10` in "
                "/etc/sysctl.d/99-swappiness.conf to keep it.",
            ),
            (
                "how do I check if the OOM killer really killed my process?",
                "`journalctl -k | grep -i 'out of memory'` or `sudo dmesg -T | grep -i oom` shows every OOM "
                "kill with the process name and its memory use at the time.",
            ),
        ],
        {"sw,swmb": [("2", "2048"), ("4", "4096"), ("8", "8192")]},
    ),
    Scenario(
        "swap_memory",
        [
            "free -h says {used}G used and almost nothing free but I'm barely running anything",
            "is it normal that linux uses all my RAM? buff/cache is huge",
            "ubuntu eats all {total}GB of my ram even when idle. memory leak?",
        ],
        [
            "Yes, that is normal. Linux fills unused RAM with file cache and gives it back the moment "
            "programs need it. Look at the 'available' column of `free -h`, not 'free': that is how much "
            "programs can still get.",
            "That is the page cache doing its job. Memory listed under buff/cache is reclaimed instantly "
            "when "
            "an application needs it. The number to watch is 'available' in `free -h`; only worry if that "
            "gets low and swap use keeps climbing.",
        ],
        [
            (
                "can I clear the cache anyway?",
                "`sync; echo 3 | sudo tee /proc/sys/vm/drop_caches` drops it, but there is no benefit: the "
                "system just gets slower until the cache is filled again. It is only useful for "
                "benchmarking.",
            ),
        ],
        {"used,total": [("14", "16"), ("7", "8"), ("30", "32")]},
    ),
]

#: Small talk users and helpers add around the real exchange (the noise the cleaning removes).
GREETINGS = ["hi all", "hey", "hello everyone", "morning folks", "hi", "hey guys", "good evening", "hello"]
THANKS = [
    "thanks!",
    "thank you!",
    "thx",
    "ty",
    "that worked, thanks!",
    "awesome, thanks a lot",
    "perfect, that did it. thanks!",
    "cheers",
    "great, thank you so much",
    "thanks, works now",
]
HELPER_SMALL_TALK = [
    "np",
    "you're welcome",
    "glad it worked :)",
    "anytime",
    "no problem",
    "happy to help",
    "np, good luck",
]
#: Off-tone openings a few helpers put before their answer (rude, dismissive); the dataset report's
#: sentiment section should surface them. The last ones have no hostile words: a lexicon misses them.
OFF_TONE = [
    "Ugh, this is a stupid question. Google it before asking here.",
    "Stop wasting our time with this.",
    "Terrible idea, no wonder it broke.",
    "Wow, that is a dumb mistake.",
    "Did you even try? Lazy.",
    "RTFM, seriously. This gets asked every single day.",
    "This is basic stuff, honestly pathetic.",
    "Nobody here is going to hold your hand, read the docs.",
]
LAUGHS = ["lol", "lol ok", "haha", "heh"]
BUMPS = ["anyone?", "hello?", "anyone around?"]

#: Links users paste (logs, screenshots) and links helpers add (documentation), by topic.
USER_LINKS = ["Full log: https://paste.ubuntu.com/p/{code}/", "Screenshot: https://imgur.com/a/{code}"]
DOC_LINKS: dict[str, list[str]] = {
    "packages_apt": [
        "https://help.ubuntu.com/community/AptGet/Howto",
        "https://manpages.ubuntu.com/manpages/jammy/man8/apt.8.html",
    ],
    "packages_dnf": ["https://docs.fedoraproject.org/en-US/quick-docs/dnf/"],
    "disk_full": [
        "https://wiki.archlinux.org/title/Systemd/Journal",
        "https://help.ubuntu.com/community/DiskSpace",
    ],
    "permissions": ["https://wiki.archlinux.org/title/File_permissions_and_attributes"],
    "ssh_keys": [
        "https://wiki.archlinux.org/title/SSH_keys",
        "https://help.ubuntu.com/community/SSH/OpenSSH/Keys",
    ],
    "systemd": [
        "https://wiki.archlinux.org/title/Systemd",
        "https://manpages.ubuntu.com/manpages/jammy/man1/systemctl.1.html",
    ],
    "networking_dns": [
        "https://netplan.readthedocs.io/en/stable/",
        "https://wiki.archlinux.org/title/Systemd-resolved",
    ],
    "cron": ["https://help.ubuntu.com/community/CronHowto"],
    "grub_boot": ["https://help.ubuntu.com/community/Grub2", "https://wiki.archlinux.org/title/GRUB"],
    "find_grep": ["https://manpages.ubuntu.com/manpages/jammy/man1/find.1.html"],
    "processes": ["https://manpages.ubuntu.com/manpages/jammy/man1/kill.1.html"],
    "users_sudo": ["https://help.ubuntu.com/community/RootSudo"],
    "mounting": ["https://help.ubuntu.com/community/Fstab", "https://wiki.archlinux.org/title/NTFS"],
    "firewall_ufw": [
        "https://help.ubuntu.com/community/UFW",
        "https://wiki.archlinux.org/title/Uncomplicated_Firewall",
    ],
    "wifi_drivers": ["https://help.ubuntu.com/community/WifiDocs/Driver/bcm43xx"],
    "swap_memory": ["https://help.ubuntu.com/community/SwapFaq"],
}
DOC_LABELS = ["More info:", "Docs:", "See also:", "Details:"]

#: When a topic was asked most: "early" (fading), "late" (rising) or "steady" (grows with the channel).
TOPIC_TREND = {
    "wifi_drivers": "early",
    "grub_boot": "early",
    "packages_dnf": "early",
    "firewall_ufw": "late",
    "ssh_keys": "late",
    "systemd": "late",
}
