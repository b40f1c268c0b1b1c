# nooelint: oelint.var.bbclassextend - the terminal runs on the target only; a native build has no use
SUMMARY = "Point-of-sale terminal"
DESCRIPTION = "The program a cashier uses all day: checkout, payments, refunds and shifts over an encrypted local store."
SECTION = "applications"
LICENSE = "GPL-3.0-or-later"
LIC_FILES_CHKSUM = "file://LICENSE;md5=1ebbd3e34237af26da5dc08a4e440464"

# The sources are the tree this layer sits in; the crates come from the generated include,
# fetched before compiling, so the compile step needs no network.
inherit externalsrc cargo cargo-update-recipe-crates

require ${BPN}-crates.inc

EXTERNALSRC = "${POS_SOURCE_TREE}"
EXTERNALSRC_BUILD = "${WORKDIR}/build"

CARGO_BUILD_FLAGS += "--package pos-terminal"
# The workspace strips release binaries; let the image's own strip and debug split do it.
CARGO_BUILD_FLAGS += "--config profile.release.strip=false"

CVE_PRODUCT = "pos-terminal"
