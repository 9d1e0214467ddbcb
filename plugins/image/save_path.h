// ComfyUI's folder_paths.get_save_image_path for SaveImage / PreviewImage: the filename_prefix variables
// (compute_vars), the subfolder split with os.path.normpath, the refusal of folders outside the output folder,
// and the counter after the highest one already there. Python's posixpath semantics, reproduced on strings.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace vkdream::packs::image {

struct SaveImagePath {
  std::string full_output_folder;  // os.path.join(output_dir, subfolder), created when it did not exist
  std::string filename;            // basename of the normalized prefix (may still hold %batch_num%)
  int64_t counter = 1;             // the first file's counter
  std::string subfolder;           // dirname of the normalized prefix ("" for none), as the ui reports it
  std::string filename_prefix;     // the prefix after compute_vars
};

// compute_vars: %width%, %height%, %year%, %month%, %day%, %hour%, %minute%, %second% (all but the year
// zero-padded to 2 digits), from `now` (local time).
std::string compute_save_vars(std::string prefix, int64_t width, int64_t height, const std::tm& now);

// get_save_image_path(filename_prefix, output_dir, width, height). `output_dir` must be absolute. Throws
// vkd::Error (type "Exception", ComfyUI's message) when the folder would be outside output_dir.
SaveImagePath get_save_image_path(std::string filename_prefix, const std::string& output_dir, int64_t width,
                                  int64_t height, const std::tm& now);

// Python's posixpath functions used above.
std::string py_normpath(std::string_view path);
std::string py_dirname(std::string_view path);
std::string py_basename(std::string_view path);
std::string py_abspath(std::string_view path);

// json.dumps' default ensure_ascii on JSON text: DEL and every non-ASCII UTF-8 character as \uXXXX (surrogate
// pairs above U+FFFF), so the text chunk is plain ASCII (PIL then writes tEXt, as for ComfyUI's files).
std::string json_ensure_ascii(std::string_view json);

}  // namespace vkdream::packs::image
