# RAUC's configuration is image/rauc/system.conf, the one the Debian image and the bundle checks
# use, and the keyring is the root certificate terminals trust, installed as
# /etc/rauc/keyring.pem as system.conf names it. By default that is the development root that
# `cargo xtask pki` writes to target/pki/keyring.pem; a release build sets POS_RAUC_KEYRING_DIR
# to the directory holding the release root's certificate (docs/signing.md).
FILESEXTRAPATHS:prepend:open-pos := "${POS_IMAGE_TREE}/rauc:${POS_RAUC_KEYRING_DIR}:"
RAUC_KEYRING_FILE:open-pos = "keyring.pem"
