# nooelint: oelint.var.bbclassextend - a bundle is a deploy artefact of the target image
SUMMARY = "Signed update bundle of the point-of-sale terminal image"
DESCRIPTION = "A RAUC bundle in verity format holding the terminal's root filesystem, for over-the-air updates from the fleet server."
SECTION = "base"
LICENSE = "GPL-3.0-or-later"
LIC_FILES_CHKSUM = "file://LICENSE;md5=1ebbd3e34237af26da5dc08a4e440464"

# The bundle is made of the image; the license text is its only source file.
# nooelint: oelint.vars.fileextrapaths,oelint.vars.outofcontext - the files live in the source tree around the layer, shared with the Debian image
FILESEXTRAPATHS:prepend := "${POS_SOURCE_TREE}:"
SRC_URI = "file://LICENSE"

inherit bundle

# Terminals refuse plain bundles (system.conf: bundle-formats=-plain).
RAUC_BUNDLE_FORMAT = "verity"
# The compatible string is read from system.conf, so a bundle can never name another device.
RAUC_BUNDLE_COMPATIBLE = "${@pos_compatible(d)}"
RAUC_BUNDLE_DESCRIPTION = "Open POS terminal"

RAUC_BUNDLE_SLOTS = "rootfs"
RAUC_SLOT_rootfs = "pos-image"
RAUC_SLOT_rootfs[fstype] = "ext4"

# Signed by a code-signing key under an intermediate that the bundle embeds, so terminals need
# only the root. The defaults are the development PKI of `cargo xtask pki`; a release build
# signs with keys in an HSM through PKCS#11 (docs/signing.md).
POS_RAUC_PKI_DIR ??= "${POS_SOURCE_TREE}/target/pki"
RAUC_KEY_FILE ??= "${POS_RAUC_PKI_DIR}/signing.key"
RAUC_CERT_FILE ??= "${POS_RAUC_PKI_DIR}/signing.pem"
POS_RAUC_INTERMEDIATE_CERT_FILE ??= "${POS_RAUC_PKI_DIR}/intermediate.pem"
BUNDLE_ARGS += "--intermediate=${POS_RAUC_INTERMEDIATE_CERT_FILE}"

CVE_PRODUCT = "pos-bundle"

def pos_compatible(d):
    path = d.expand("${POS_IMAGE_TREE}/rauc/system.conf")
    with open(path) as conf:
        for line in conf:
            if line.strip().startswith("compatible="):
                return line.split("=", 1)[1].strip()
    bb.fatal("%s has no compatible= line" % path)
