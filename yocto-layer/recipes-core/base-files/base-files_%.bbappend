# The terminal's mounts, the same as the Debian image's (image/fstab): the root read-only, all
# state on /data. base-files already fetches `file://fstab`; this makes it find ours first.
FILESEXTRAPATHS:prepend:open-pos := "${POS_IMAGE_TREE}:"
