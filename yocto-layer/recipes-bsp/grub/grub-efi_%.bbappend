# The A/B logic in grub.cfg reads the ESP's disk with `regexp` and reports with `echo`; no module
# directory is installed on the ESP, so they are built into the EFI image.
GRUB_BUILDIN:append:open-pos = " regexp echo"
