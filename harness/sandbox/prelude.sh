# Runs inside fresh mount/network (and pid) namespaces, before the sandboxed command.
# Args: PARENT ROOT HIDE(a:b:c) PYHOME DROP SITE CMD...  (see harness/sandbox/box.py)
# set -e: a confinement step that fails aborts the run instead of running unconfined.
set -e
P="$1"; R="$2"; HIDE="$3"; PYHOME="$4"; DROP="$5"; SITE="$6"; shift 6
mount --make-rprivate /
# Third-party packages stay importable (read-only), as they are in-process; bound before
# the hiding below, which may cover the directories they live in.
mount --bind "$SITE" "$P/site"
if [ -n "$PYHOME" ]; then mount --bind "$PYHOME" "$P/py"; fi
# The harness's own sources (families, gold generators), other checkouts of it, homes:
# HIDE is a colon-separated list of directories, each covered by an empty tmpfs.
OLDIFS=$IFS; IFS=:
for d in $HIDE; do
  mount -t tmpfs -o size=4k,mode=0755 none "$d"
done
IFS=$OLDIFS
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
