# Sourced by ./demo.sh and ./test.sh: install, with apt-get, the Debian packages
# that are missing (and only those), so a second run is quick.
#   gs_install_missing PKG...

gs_install_missing() {
    local missing=()
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    echo "gradscope: installing ${missing[*]}" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq || return 1
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
}

# What building and running the trainer needs.
GS_BUILD_PACKAGES=(build-essential pkg-config meson ninja-build libopenblas-dev libhdf5-dev zlib1g-dev)
# Real data and figures.
GS_RUN_PACKAGES=(dataset-fashion-mnist gnuplot-nox hdf5-tools)
# The GUI.
GS_GUI_PACKAGES=(libgtk-4-dev)
# Tests only: PyTorch reference, h5py, a display server for the GUI, PDF checks.
GS_TEST_PACKAGES=(python3 python3-torch python3-h5py python3-numpy xvfb xauth poppler-utils)

# Configure (once) and build a meson tree incrementally.
#   gs_build DIR [meson setup options...]
gs_build() {
    local dir="$1"
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >/dev/null || { echo "gradscope: meson setup $dir failed" >&2; return 1; }
    fi
    ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
}
