//! The USB installer: a bootable stick that writes a terminal's disk image onto the box's
//! internal drive, for boxes that cannot be flashed from another machine.
//!
//! The stick is made from a finished disk image (`cargo xtask image`) and reuses its slot A
//! root filesystem, which carries `pos-install.target` and `install-to-disk`
//! (`image/rootfs`): its own GRUB (`image/installer/grub.cfg`) starts that target instead of
//! the terminal, with none of the terminal's state mounted. The image itself rides on a third
//! partition with its block map (`bmaptool create`: the mapped ranges and a SHA-256 of each),
//! which tells the installer what to write and how to check it. Owns the stick's layout;
//! `image` owns the disk's.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::image::{self, MIB, Partition, Variant};
use crate::run_quiet;

/// The partition names `install-to-disk` looks for.
pub const ROOT_LABEL: &str = "installer-root";
pub const PAYLOAD_LABEL: &str = "installer-payload";
/// The image's file name on the payload partition.
pub const IMAGE_NAME: &str = "open-pos.img";

/// Units of the installed terminal that must not run from the stick: they would mount, format
/// or import into the partitions of a terminal already on the internal disk.
pub const MASKED_ON_STICK: &[&str] = &[
    "data.mount",
    "boot-efi.mount",
    "var-log.mount",
    "var-lib-systemd.mount",
    "pos-data-format.service",
    "pos-data-layout.service",
    "pos-usb-import@.service",
    // It grows the last partition of the disk the root is on: here the stick's own.
    "systemd-repart.service",
];

/// The stick's partitions for a disk image of `image_bytes`: GRUB, the root filesystem of
/// slot A, and the image with room for its filesystem's own blocks.
pub fn partitions(image_bytes: u64) -> Vec<Partition> {
    let image_mib = image_bytes.div_ceil(MIB);
    image::lay_out(&[
        ("esp", image::TYPE_ESP, 64),
        (ROOT_LABEL, image::TYPE_ROOT_X86_64, image::SLOT_MIB),
        (
            PAYLOAD_LABEL,
            image::TYPE_LINUX_DATA,
            image_mib + image_mib / 50 + 64,
        ),
    ])
}

/// The installer's kernel command line after its `root=… systemd.unit=…`. The test stick
/// waits one second before writing instead of the product's fifteen.
pub fn kernel_cmdline(variant: Variant) -> String {
    let masks: Vec<String> = MASKED_ON_STICK
        .iter()
        .map(|unit| format!("systemd.mask={unit}"))
        .collect();
    let delay = match variant {
        Variant::Product => "",
        Variant::Test => " open-pos.install-delay=1",
    };
    format!(
        "{} {}{delay}",
        masks.join(" "),
        image::kernel_cmdline(variant)
    )
}

/// Everything one installer build needs.
pub struct InstallerSpec<'a> {
    pub variant: Variant,
    /// The disk image to install (`cargo xtask image`); read, never changed.
    pub image: &'a Path,
    /// Scratch space; emptied first.
    pub work: &'a Path,
    pub out: &'a Path,
    /// Shown by the installer before it writes ("1.5.0", a git revision).
    pub version: &'a str,
}

/// What was built.
pub struct BuiltInstaller {
    pub stick: PathBuf,
    pub stick_bytes: u64,
    /// The image's data: what the installer writes and reads back.
    pub mapped_bytes: u64,
}

/// Builds the installer stick of `spec`.
pub fn build(spec: &InstallerSpec<'_>) -> Result<BuiltInstaller> {
    crate::empty_dir(spec.work)?;
    let image_bytes = std::fs::metadata(spec.image)
        .with_context(|| {
            format!(
                "no disk image at {}: build it first with `cargo xtask image`",
                spec.image.display()
            )
        })?
        .len();
    // The installer reads the disk back in whole MiB.
    if image_bytes % MIB != 0 {
        bail!("{} is not a whole number of MiB", spec.image.display());
    }
    let layout = partitions(image_bytes);

    // The root filesystem: slot A of the image, as it is.
    let disk_layout = image::partitions();
    let slot_a = image::partition(&disk_layout, "root-a")?;
    let root = spec.work.join("root.ext4");
    image::extract_partition(spec.image, slot_a, &root)?;

    // The payload: the image, its block map and its version.
    let payload_dir = spec.work.join("payload");
    std::fs::create_dir_all(&payload_dir)?;
    let carried = payload_dir.join(IMAGE_NAME);
    run_quiet(
        Command::new("cp")
            .arg("--sparse=always")
            .arg(spec.image)
            .arg(&carried),
    )?;
    let bmap = carried.with_extension("bmap");
    run_quiet(
        Command::new("bmaptool")
            .args(["create", "-o"])
            .arg(&bmap)
            .arg(&carried),
    )?;
    let mapped_bytes = mapped_bytes(&std::fs::read_to_string(&bmap)?)?;
    std::fs::write(payload_dir.join("version"), format!("{}\n", spec.version))?;
    let payload = spec.work.join("payload.ext4");
    let payload_mib = image::partition(&layout, PAYLOAD_LABEL)?.size_mib;
    run_quiet(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", "payload", "-b", "4096", "-m", "0", "-d"])
            .arg(&payload_dir)
            .arg(&payload)
            .arg(format!("{payload_mib}M")),
    )?;
    std::fs::remove_file(&carried)?;

    let template =
        std::fs::read_to_string(crate::workspace_root().join("image/installer/grub.cfg"))
            .context("reading image/installer/grub.cfg")?;
    let esp = spec.work.join("esp.vfat");
    image::make_esp(
        &image::grub_cfg(&template, &kernel_cmdline(spec.variant))?,
        None,
        image::partition(&layout, "esp")?.size_mib,
        spec.work,
        &esp,
    )?;
    image::assemble(
        &layout,
        &[
            ("esp", &esp),
            (ROOT_LABEL, &root),
            (PAYLOAD_LABEL, &payload),
        ],
        spec.out,
    )?;
    // The partitions are in the stick now; their files would hold two more GiB.
    crate::remove_dir_if_present(spec.work)?;
    Ok(BuiltInstaller {
        stick: spec.out.to_path_buf(),
        stick_bytes: std::fs::metadata(spec.out)?.len(),
        mapped_bytes,
    })
}

/// The bytes a block map lists as data (`<MappedBlocksCount>` blocks of `<BlockSize>`).
fn mapped_bytes(bmap: &str) -> Result<u64> {
    let field = |name: &str| -> Result<u64> {
        let open = format!("<{name}>");
        // The last one: bmaptool's leading comment names the elements too.
        let value = bmap
            .rsplit_once(&open)
            .and_then(|(_, rest)| rest.split_once(&format!("</{name}>")))
            .with_context(|| format!("the block map has no {open}"))?
            .0;
        value
            .trim()
            .parse()
            .with_context(|| format!("the block map's {open} is {value:?}"))
    };
    Ok(field("MappedBlocksCount")? * field("BlockSize")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_partition_holds_the_image_with_room_to_spare() {
        let image_bytes = image::disk_size_mib(&image::partitions()) * MIB;
        let layout = partitions(image_bytes);
        let names: Vec<&str> = layout.iter().map(|p| p.name).collect();
        assert_eq!(names, ["esp", ROOT_LABEL, PAYLOAD_LABEL]);
        let payload = &layout[2];
        assert!(payload.size_mib * MIB > image_bytes + 32 * MIB);
        // GRUB starts the root filesystem as gpt2, as the product's slot A.
        assert_eq!(layout[1].size_mib, image::SLOT_MIB);
    }

    #[test]
    fn the_block_map_tells_how_much_the_installer_writes() {
        let bmap = "<bmap version=\"2.0\">\n<!-- copies <MappedBlocksCount> blocks instead -->\n    <ImageSize> 8388608 </ImageSize>\n    \
                    <BlockSize> 4096 </BlockSize>\n    <BlocksCount> 2048 </BlocksCount>\n    \
                    <MappedBlocksCount> 261 </MappedBlocksCount>\n</bmap>\n";
        assert_eq!(mapped_bytes(bmap).unwrap(), 261 * 4096);
        assert!(mapped_bytes("<bmap></bmap>").is_err());
    }

    #[test]
    fn the_stick_masks_everything_that_would_touch_an_installed_terminal() {
        let cmdline = kernel_cmdline(Variant::Product);
        for unit in [
            "data.mount",
            "pos-data-format.service",
            "boot-efi.mount",
            "systemd-repart.service",
        ] {
            assert!(
                cmdline.contains(&format!("systemd.mask={unit}")),
                "{cmdline}"
            );
        }
        assert!(!cmdline.contains("install-delay"));
        assert!(kernel_cmdline(Variant::Test).contains("open-pos.install-delay=1"));
    }

    #[test]
    fn the_installer_grub_cfg_starts_the_install_target_from_partition_two() {
        let template =
            std::fs::read_to_string(crate::workspace_root().join("image/installer/grub.cfg"))
                .unwrap();
        let cfg = image::grub_cfg(&template, &kernel_cmdline(Variant::Test)).unwrap();
        assert!(cfg.contains(&format!("root=PARTLABEL={ROOT_LABEL}")));
        assert!(cfg.contains("systemd.unit=pos-install.target"));
        assert!(cfg.contains("($disk,gpt2)/vmlinuz"));
        assert!(!cfg.contains("@CMDLINE@"));
    }
}
