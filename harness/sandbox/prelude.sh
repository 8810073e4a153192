# Runs inside fresh mount/network (and pid) namespaces, before the sandboxed command.
# Args: PARENT ROOT HIDE PYHOME DROP SITE CMD...  (see harness/sandbox/box.py)
# set -e: a confinement step that fails aborts the run instead of running unconfined.
set -e
P="$1"; R="$2"; HIDE="$3"; PYHOME="$4"; DROP="$5"; SITE="$6"; shift 6
mount --make-rprivate /
# The harness's own sources (families, gold generators) are not the agent's to read.
# Third-party packages stay importable (read-only), as they are in-process.
mount --bind "$SITE" "$P/site"
mount -t tmpfs -o size=4k,mode=0755 none "$HIDE"
if [ -n "$PYHOME" ]; then mount --bind "$PYHOME" "$P/py"; fi
# Every mount read-only (deepest first), then the root alone writable again.
awk '{print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
  mount -o remount,bind,ro "$m" 2>/dev/null || true
done
mount --bind "$R" "$R"
mount -o remount,bind,rw "$R"
cd "$R"  # the inherited cwd still points into the read-only mount underneath
if [ "$DROP" = 1 ]; then
  exec setpriv --reuid=65534 --regid=65534 --clear-groups --bounding-set=-all \
    --inh-caps=-all --no-new-privs -- "$@"
fi
exec setpriv --bounding-set=-all --inh-caps=-all --no-new-privs -- "$@"
