#!/usr/bin/python3
"""it_docs.py - the help, the manual page and the completions agree with
the program (issue 14 items 14 and 15): every option of every
subcommand's option table is in its --help, every option of every --help
is in nestd.1 and in both completions; the page renders without a warning
under groff -ww and man; bash and zsh load the completions and complete a
subcommand, an option, and, for ctl, the agents' names asked of a real
server.

Run with /usr/bin/python3 (Debian's, with python3-websockets)."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import NESTD, Server, T, check, main, path, run, skip, token_new, wait_until  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAN = os.path.join(TOP, "nestd.1")
BASH = os.path.join(TOP, "contrib", "completions", "nestd.bash")
ZSH = os.path.join(TOP, "contrib", "completions", "_nestd")
SUBS = ("server", "agent", "token", "ctl", "slack")
OPT = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
S = {}

# Each subcommand's option table, in the source: the names it parses.
TABLES = {
    "server": ("server_opts.c", r'\{ "([a-z0-9-]+)", [01], O_'),
    "agent": ("agent_opts.c", r'\{ "([a-z0-9-]+)", [01], [01], set_'),
    "ctl": ("ctl.c", r'\{ "([a-z0-9-]+)", [01], O_'),
    "token": ("token_cmd.c", r'\{ "([a-z0-9-]+)", [01], T_'),
}


def help_of(sub):
    rc, out, err = run([sub, "--help"])
    check(rc == 0 and out.startswith("usage: nestd " + sub), "nestd %s --help: exit 0, a usage" % sub, (rc, err))
    return out


def roff(opt):
    """--tls-cert as the page's source spells it: \\-\\-tls\\-cert."""
    return opt.replace("-", "\\-")


def test_help_lists_every_option():
    for sub in SUBS:
        text = help_of(sub)
        S[sub] = sorted(set(OPT.findall(text)))
        if sub not in TABLES:
            continue
        src, rx = TABLES[sub]
        with open(os.path.join(TOP, src)) as f:
            table = re.findall(rx, f.read())
        check(len(table) >= 5, "%s: its option table read from %s" % (sub, src), table)
        # a key for the config file only (a secret: never argv) is named as one
        missing = [o for o in table if "--" + o not in S[sub] and o + " = " not in text]
        check(not missing, "nestd %s --help names every option it takes" % sub, missing)


def test_help_is_the_usage_file():
    """--help prints help_text.h's text byte for byte (help.c stores the
    texts compressed, together, and inflates the one asked for), as the
    build's own tools/helpgen prints it; a bare 'nestd ctl' prints the same
    text on stderr and exits 2."""
    gens = [os.path.join(TOP, "build", d, "tools", "helpgen") for d in ("", "static", "asan")]
    gens = [g for g in gens if os.access(g, os.X_OK)]
    if not gens:
        return skip("test_help_is_the_usage_file", "no build/tools/helpgen (run make first)")
    for sub in ("agent", "server", "ctl", "token"):
        want = subprocess.run([gens[0], sub], capture_output=True, check=True).stdout.decode()
        check(len(want) > 1000, "helpgen %s: the text" % sub)
        rc, out, err = run([sub, "--help"])
        check(rc == 0 and out == want and err == "", "nestd %s --help is help_text.h's %s" % (sub, sub),
              (rc, len(out), len(want), err))
        if sub == "ctl":
            rc, out, err = run(["ctl"])
            check(rc == 2 and out == "" and err == want, "a bare nestd ctl: its help on stderr, exit 2",
                  (rc, out, len(err)))
            rc, out, err = run(["ctl", "help"])
            check(rc == 0 and out == want, "nestd ctl help: the same help", (rc, len(out)))
    want = subprocess.run([gens[0], "ctl_kill"], capture_output=True, check=True).stdout.decode()
    rc, out, err = run(["ctl", "kill", "--help"])
    check(rc == 0 and out == "usage: nestd ctl [--server URL] [--token-file FILE] [--json] kill NAME PID "
          "[--signal SIG]\n\n" + want + "\nThe options of every subcommand: nestd ctl --help.\n",
          "nestd ctl kill --help: its usage line, help_text.h's CTL_KILL, the pointer to ctl --help", out)


def test_man_and_completions_have_every_option():
    man = open(MAN).read()
    bash = open(BASH).read()
    zsh = open(ZSH).read()
    for sub in SUBS:
        opts = S.get(sub) or sorted(set(OPT.findall(help_of(sub))))
        check(opts, "%s: options found in --help" % sub)
        for what, text, spell in (("nestd.1", man, roff), ("the bash completion", bash, str),
                                  ("the zsh completion", zsh, str)):
            missing = [o for o in opts if spell(o) not in text]
            check(not missing, "every option of nestd %s --help is in %s" % (sub, what), missing)
    for sub in SUBS:
        check(re.search(r"^\.SH \"%s (OPTIONS|COMMANDS)\"" % sub.upper(), man, re.M),
              "nestd.1 has a section for %s" % sub)


def test_man_renders():
    if not shutil.which("groff"):
        return skip("man page rendering", "no groff (sh deps.sh test installs groff-base)")
    p = subprocess.run(["groff", "-ww", "-man", "-Tutf8", MAN], capture_output=True, text=True, timeout=T(30))
    plain = re.sub(r".\x08", "", p.stdout)     # grotty's overstrike bold and underline
    check(p.returncode == 0 and p.stderr == "" and "nestd server" in plain,
          "groff -ww -man renders nestd.1 without a warning", p.stderr[:500])
    if not shutil.which("man"):
        return skip("man -l", "no man-db")
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat")
    p = subprocess.run(["man", "--warnings", "-l", MAN], capture_output=True, text=True, env=env, timeout=T(30))
    check(p.returncode == 0 and p.stderr == "" and "SERVER OPTIONS" in p.stdout,
          "man -l nestd.1: no warning", p.stderr[:500])


def bash_complete(words, env=None):
    """COMPREPLY of the bash completion for the command line words (the
    last one being completed)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _nestd; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "-c", script, "bash", BASH] + list(words), capture_output=True, text=True,
                       env=env, timeout=T(30))
    return p.stdout.split(), p.stderr


def test_bash():
    got, err = bash_complete(["nestd", "ct"])
    check(got == ["ctl"], "bash: nestd ct<TAB> is ctl", (got, err))
    got, _ = bash_complete(["nestd", "server", "--hist"])
    check(got == ["--history-interval"], "bash: an option", got)
    got, _ = bash_complete(["nestd", "agent", "--services", "sys"])
    check(got == ["systemd", "systemd-user"], "bash: an option's values", got)
    got, _ = bash_complete(["nestd", "ctl", "service", "x", "re"])
    check(got == ["restart", "reload"], "bash: a service action", got)


def zsh_complete(line, env=None):
    """The command line after typing line and a TAB in an interactive zsh.
    The marker is spelt in two pieces in the setup line, so that line's echo
    (wrapped by the terminal where it may) never passes for the widget's
    output."""
    script = path("zcomp.zsh")
    with open(script, "w") as f:
        f.write(r'''zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; bindkey '^I' complete-word; show() { print -r -- \"B\"\"UF:[\$BUFFER]\"; }; zle -N show; bindkey '^X' show"
zpty -w -n z "$2"$'\t\x18'
out=
for i in {1..100}; do
  zpty -r -t z chunk && out+=$chunk
  [[ $out == *'BUF:['*']'* ]] && break
  sleep 0.1
done
zpty -d z
print -r -- ${${out##*BUF:\[}%%\]*}
''')
    p = subprocess.run(["zsh", "-f", script, os.path.dirname(ZSH), line], capture_output=True, text=True,
                       env=env, timeout=T(60))
    return p.stdout.rstrip("\n"), p.stderr


def test_zsh():
    if not shutil.which("zsh"):
        return skip("zsh completion", "no zsh (sh deps.sh test installs it)")
    got, err = zsh_complete("nestd ct")
    check(got == "nestd ctl ", "zsh: nestd ct<TAB> is ctl", (got, err))
    got, _ = zsh_complete("nestd server --hist")
    check(got == "nestd server --history-interval ", "zsh: an option", got)
    got, _ = zsh_complete("nestd token re")
    check(got == "nestd token revoke ", "zsh: a token verb", got)


def test_agent_names_from_the_server():
    tokens = path("tokens")
    op = token_new(tokens, "op", "operator")
    tok = token_new(tokens, "zebra-web1")
    for name, t in (("op", op), ("zebra-web1", tok)):
        with open(path(name + ".token"), "w") as f:
            f.write(t + "\n")
        os.chmod(path(name + ".token"), 0o600)
    srv = Server(tokens)
    url = "http://127.0.0.1:%d" % srv.port
    ag = nestlib.Proc(["agent", "--server", srv.url, "--token-file", path("zebra-web1.token"),
                       "--services", "none"], "agent")
    check(srv.wait_log(r"zebra-web1 connected", 15), "an agent connects")
    bindir = path("bin")
    os.makedirs(bindir, exist_ok=True)
    if not os.path.exists(os.path.join(bindir, "nestd")):
        os.symlink(NESTD, os.path.join(bindir, "nestd"))
    env = dict(os.environ, PATH=bindir + ":" + os.environ.get("PATH", ""))
    for k in ("NESTD_TOKEN", "NESTD_TOKEN_FILE", "NESTD_SERVER"):
        env.pop(k, None)
    got, err = bash_complete(["nestd", "ctl", "--server", url, "--token-file", path("op.token"), "ps", "zeb"], env)
    check(got == ["zebra-web1"], "bash: ctl ps <TAB> completes the agent's name from the server", (got, err))
    if shutil.which("zsh"):
        got, err = zsh_complete("nestd ctl --server %s --token-file %s ps zeb" % (url, path("op.token")), env)
        check(got.endswith(" ps zebra-web1 "), "zsh: ctl ps <TAB> completes the agent's name", (got, err))
    ag.stop()
    srv.stop()


if __name__ == "__main__":
    main([test_help_lists_every_option, test_help_is_the_usage_file, test_man_and_completions_have_every_option, test_man_renders,
          test_bash, test_zsh, test_agent_names_from_the_server])
