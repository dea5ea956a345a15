FAMILY = "i2s"
def variants(arch):
    return []
