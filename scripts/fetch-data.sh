#!/usr/bin/env bash
# Fetches datasets into the cache folder the loaders read (data/dataset.h, docs/data.md).
#
#   scripts/fetch-data.sh NAME...          NAME: mnist fashion-mnist cifar10 omniglot all
#   scripts/fetch-data.sh --extract-zip ZIP DEST   safe unzip (the check below), for tests/tools
#
# Environment:
#   FEWSHOT_DATA_DIR     cache folder (default <repo>/data-cache); written here, idempotently
#   FEWSHOT_DATA_MIRROR  local folder holding the official files under the same layout as
#                        ../shared/data (mnist/, fashion-mnist/, cifar-10/cifar-10-batches-bin/,
#                        omniglot/); used first. Otherwise each file is downloaded (curl or wget)
#                        from its canonical public URL.
#
# What is verified (SHA-256 unless said otherwise):
#   mnist, fashion-mnist  the DECOMPRESSED IDX bytes (so the official .gz and a re-gzipped mirror
#                         copy both pass: the MNIST .gz in ../shared/data are repacked).
#   cifar10               mirror files: the mirror's listed SHA-256 (its data is a re-encoding, so
#                         it differs from the official batches); other batches: size = 10000 records
#                         of 3073 bytes. Download: cifar-10-binary.tar.gz, MD5 from the CIFAR page.
#   omniglot              the mirror's listed SHA-256 of the zip; for a zip with another hash
#                         (the official one, whose hash we do not pin): zip integrity (unzip -t)
#                         and the PNG count (19280 background, 13180 evaluation).
# Archives are listed before extraction and refused if any entry is absolute or climbs out of the
# destination (zip slip); extraction goes to a temporary folder and is renamed into place.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
DATA_DIR="${FEWSHOT_DATA_DIR:-$REPO/data-cache}"
MIRROR="${FEWSHOT_DATA_MIRROR:-}"

die() { echo "fetch-data: error: $*" >&2; exit 1; }
say() { echo "fetch-data: $*"; }

sha256_of() { sha256sum "$1" | cut -c1-64; }
# SHA-256 of the decompressed bytes of a .gz file (or of the file itself if not gzip).
content_sha256_of() {
  if gzip -t "$1" 2>/dev/null; then gzip -dc "$1" | sha256sum | cut -c1-64; else sha256_of "$1"; fi
}

# Prints the offending entry and fails if any entry of ZIP is absolute, uses backslashes or a
# drive letter, or has more ".." components than the folders it went into.
check_zip_entries() {
  local zip="$1"
  local listing
  listing="$(unzip -Z1 "$zip")" || die "cannot list archive $zip (corrupt or not a zip)"
  local entry
  entry="$(printf '%s\n' "$listing" | awk -F/ '
    { bad = 0
      if ($0 ~ /^\// || $0 ~ /\\/ || $0 ~ /^[A-Za-z]:/) bad = 1
      d = 0
      for (i = 1; i <= NF && !bad; i++) {
        if ($i == "..") { d--; if (d < 0) bad = 1 }
        else if ($i != "" && $i != ".") d++
      }
      if (bad) { print $0; exit } }')"
  [ -z "$entry" ] || die "archive $zip: entry '$entry' would extract outside the destination folder; refusing to extract anything"
  # A symbolic-link entry could point outside and let a later entry write through it.
  entry="$(unzip -Z "$zip" | awk '/^l/ { print $NF; exit }')"
  [ -z "$entry" ] || die "archive $zip: entry '$entry' is a symbolic link; refusing to extract anything"
}

# Safe extraction of ZIP into DEST (all or nothing for the entry check).
extract_zip() {
  local zip="$1" dest="$2"
  check_zip_entries "$zip"
  mkdir -p "$dest"
  unzip -q -o "$zip" -d "$dest" || die "unzip failed for $zip"
}

# Downloads URL to OUT with curl or wget; explains what to do when there is no network.
download() {
  local url="$1" out="$2"
  say "downloading $url"
  mkdir -p "$(dirname "$out")"
  if command -v curl >/dev/null; then
    curl -fL --retry 2 --connect-timeout 20 -o "$out.part" "$url" && mv "$out.part" "$out" && return 0
  elif command -v wget >/dev/null; then
    wget -q -O "$out.part" "$url" && mv "$out.part" "$out" && return 0
  fi
  rm -f "$out.part"
  return 1
}

# Finds the official file REL (mirror layout) and prints a local path to it: the mirror's copy if
# present, else a download (trying each URL in turn) into $DATA_DIR/.downloads.
obtain() {
  local rel="$1"; shift
  if [ -n "$MIRROR" ] && [ -f "$MIRROR/$rel" ]; then echo "$MIRROR/$rel"; return 0; fi
  local out="$DATA_DIR/.downloads/$rel"
  if [ -f "$out" ]; then echo "$out"; return 0; fi
  local url
  for url in "$@"; do
    if download "$url" "$out" >&2; then echo "$out"; return 0; fi
  done
  die "could not get $rel: not in the mirror (FEWSHOT_DATA_MIRROR='${MIRROR}') and download failed from: $*. Without internet, point FEWSHOT_DATA_MIRROR at a folder holding $rel (e.g. ../shared/data)."
}

# --- MNIST and Fashion-MNIST: four IDX files each ----------------------------------------------
fetch_idx() {
  local name="$1"; shift
  local -a bases=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
  local -a shas urls
  if [ "$name" = mnist ]; then
    shas=(ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
          65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
          0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
          ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2)
    urls=(http://yann.lecun.com/exdb/mnist https://ossci-datasets.s3.amazonaws.com/mnist)
  else
    shas=(c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
          bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
          5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
          0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34)
    urls=(http://fashion-mnist.s3-website.eu-central-1.amazonaws.com)
  fi
  mkdir -p "$DATA_DIR/$name"
  local i
  for i in 0 1 2 3; do
    local f="${bases[$i]}.gz" want="${shas[$i]}"
    local dest="$DATA_DIR/$name/$f"
    if [ -f "$dest" ] && [ "$(content_sha256_of "$dest")" = "$want" ]; then
      say "$name/$f: present and verified"; continue
    fi
    local src
    src="$(obtain "$name/$f" "${urls[@]/%//$f}")"
    local got; got="$(content_sha256_of "$src")"
    [ "$got" = "$want" ] || die "$src: SHA-256 of the decompressed IDX data is $got, expected $want (corrupt or not the official file)"
    cp "$src" "$dest.tmp" && mv "$dest.tmp" "$dest"
    say "$name/$f: verified (decompressed SHA-256) and stored in $DATA_DIR/$name"
  done
}

# --- CIFAR-10 binary ----------------------------------------------------------------------------
fetch_cifar10() {
  local sub="cifar-10/cifar-10-batches-bin"
  local dest="$DATA_DIR/$sub"
  mkdir -p "$dest"
  declare -A known=(
    [data_batch_1.bin]=95bc40a96c189b4ae973b8e377256610c0b0865f59a76bf2e7b5f5d3b6a9cd51
    [test_batch.bin]=4031d37f75019b03cd2c6e0837a85e5935f31d6a5050a8d117ad746543e6f124
    [batches.meta.txt]=558e74b5e208382e186da55784b4bac2cd52e558448e1b5800990fdb28ed8033)
  if [ -n "$MIRROR" ] && [ -f "$MIRROR/$sub/test_batch.bin" ]; then
    local f
    for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin batches.meta.txt; do
      local src="$MIRROR/$sub/$f"
      [ -f "$src" ] || continue
      if [ -f "$dest/$f" ] && cmp -s "$src" "$dest/$f"; then say "cifar10/$f: present"; continue; fi
      if [ -n "${known[$f]:-}" ]; then
        local got; got="$(sha256_of "$src")"
        [ "$got" = "${known[$f]}" ] || die "$src: SHA-256 is $got, expected ${known[$f]}"
      elif [ "$f" != batches.meta.txt ]; then
        local size; size=$(stat -c %s "$src")
        [ "$size" = 30730000 ] || die "$src: $size bytes, expected 30730000 (10000 records of 3073 bytes)"
      fi
      cp "$src" "$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f"
      say "cifar10/$f: verified and stored in $dest"
    done
    return 0
  fi
  if [ -f "$dest/test_batch.bin" ] && [ -f "$dest/data_batch_1.bin" ]; then say "cifar10: present in $dest"; return 0; fi
  local tgz; tgz="$(obtain cifar-10/cifar-10-binary.tar.gz https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz)"
  local md5; md5="$(md5sum "$tgz" | cut -c1-32)"
  [ "$md5" = c32a1d4ab5d03f1284b67883e8d87530 ] || die "$tgz: MD5 $md5, expected c32a1d4ab5d03f1284b67883e8d87530 (official CIFAR-10 binary)"
  if tar -tzf "$tgz" | grep -qE '(^/|(^|/)\.\.(/|$))'; then die "$tgz: an entry would extract outside $DATA_DIR/cifar-10"; fi
  tar -xzf "$tgz" -C "$DATA_DIR/cifar-10"
  say "cifar10: extracted into $dest"
}

# --- Omniglot -----------------------------------------------------------------------------------
fetch_omniglot() {
  local dest="$DATA_DIR/omniglot"
  mkdir -p "$dest"
  local part want count
  for part in images_background images_evaluation; do
    if [ "$part" = images_background ]; then
      want=3e477701bcdd4243f20ab7b62150d274796cfced4825ed3e98822d8338e31e30; count=19280
    else
      want=3368931a8e417e18336f69eecc9be8a5858df6b4b48632ea42d0a06501b8a05f; count=13180
    fi
    if [ -f "$dest/$part/.complete" ]; then say "omniglot/$part: present"; continue; fi
    local zip
    zip="$(obtain "omniglot/$part.zip" "https://github.com/brendenlake/omniglot/raw/master/python/$part.zip")"
    if [ "$(sha256_of "$zip")" = "$want" ]; then
      say "omniglot/$part.zip: SHA-256 matches the mirror's"
    else
      unzip -tqq "$zip" >/dev/null || die "$zip: zip integrity test failed"
      local n; n=$(unzip -Z1 "$zip" | grep -c '\.png$' || true)
      [ "$n" = "$count" ] || die "$zip: $n PNG entries, expected $count"
      say "omniglot/$part.zip: not the mirror's bytes; integrity and $n PNG entries checked"
    fi
    local tmp="$dest/.tmp-$part"
    rm -rf "$tmp"
    extract_zip "$zip" "$tmp"
    [ -d "$tmp/$part" ] || die "$zip: has no top-level folder $part/"
    rm -rf "${dest:?}/$part"
    mv "$tmp/$part" "$dest/$part"
    rm -rf "$tmp"
    touch "$dest/$part/.complete"
    say "omniglot/$part: extracted into $dest/$part"
  done
}

main() {
  [ $# -gt 0 ] || die "usage: scripts/fetch-data.sh NAME... (mnist fashion-mnist cifar10 omniglot all)"
  if [ "$1" = --extract-zip ]; then
    [ $# -eq 3 ] || die "usage: scripts/fetch-data.sh --extract-zip ZIP DEST"
    extract_zip "$2" "$3"; return 0
  fi
  local -a names=()
  local n
  for n in "$@"; do
    if [ "$n" = all ]; then names+=(mnist fashion-mnist cifar10 omniglot); else names+=("$n"); fi
  done
  mkdir -p "$DATA_DIR"
  for n in "${names[@]}"; do
    case "$n" in
      mnist|fashion-mnist) fetch_idx "$n" ;;
      cifar10|cifar-10) fetch_cifar10 ;;
      omniglot) fetch_omniglot ;;
      sinusoid) say "sinusoid: generated, nothing to fetch" ;;
      *) die "unknown dataset '$n' (mnist fashion-mnist cifar10 omniglot all)" ;;
    esac
  done
  say "done: $DATA_DIR"
}

main "$@"
