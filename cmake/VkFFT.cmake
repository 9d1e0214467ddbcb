# VkFFT (Debian's libvkfft-dev 1.2.26, header only) for the Fourier filter op, as the interface target
# `vkdream_vkfft`: the patched header, VKFFT_BACKEND=0 (Vulkan) and the glslang runtime it compiles its
# kernels with.
#
# The shipped header does not compile against glslang 12: its two hard-coded
# `const glslang_resource_t default_resource = { ... };` initializers predate fields glslang 12 added.
# We copy it into the build tree and replace both with glslang's own defaults
# (`*glslang_default_resource()` from glslang-default-resource-limits); see platform-notes.md.
find_path(VKFFT_INCLUDE_DIR vkFFT.h REQUIRED)
find_package(glslang CONFIG REQUIRED)
find_package(SPIRV-Tools-opt CONFIG REQUIRED)

set(VKFFT_PATCHED_DIR ${CMAKE_BINARY_DIR}/vkfft)
set(VKFFT_PATCHED_HEADER ${VKFFT_PATCHED_DIR}/vkFFT.h)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${VKFFT_INCLUDE_DIR}/vkFFT.h)

file(READ ${VKFFT_INCLUDE_DIR}/vkFFT.h vkfft_src)
set(vkfft_begin "const glslang_resource_t default_resource = {")
set(vkfft_end "} };")
set(vkfft_out "")
set(vkfft_replaced 0)
while(TRUE)
  string(FIND "${vkfft_src}" "${vkfft_begin}" at)
  if(at EQUAL -1)
    break()
  endif()
  string(SUBSTRING "${vkfft_src}" 0 ${at} head)
  string(SUBSTRING "${vkfft_src}" ${at} -1 rest)
  string(FIND "${rest}" "${vkfft_end}" end_at)
  if(end_at EQUAL -1)
    message(FATAL_ERROR "VkFFT patch: no end of a default_resource initializer in ${VKFFT_INCLUDE_DIR}/vkFFT.h")
  endif()
  string(LENGTH "${vkfft_end}" end_len)
  math(EXPR tail_at "${end_at} + ${end_len}")
  string(SUBSTRING "${rest}" ${tail_at} -1 vkfft_src)
  string(APPEND vkfft_out "${head}const glslang_resource_t default_resource = *glslang_default_resource();")
  math(EXPR vkfft_replaced "${vkfft_replaced} + 1")
endwhile()
string(APPEND vkfft_out "${vkfft_src}")
if(NOT vkfft_replaced EQUAL 2)
  message(FATAL_ERROR "VkFFT patch: expected 2 default_resource initializers, found ${vkfft_replaced} "
                      "(a different libvkfft-dev version? see platform-notes.md)")
endif()
string(REPLACE "#include <glslang/Include/glslang_c_interface.h>"
               "#include <glslang/Include/glslang_c_interface.h>\n#include <glslang/Public/resource_limits_c.h>"
               vkfft_out "${vkfft_out}")
# Written through a temporary so an unchanged header keeps its time stamp (no rebuild on re-configure).
file(WRITE ${VKFFT_PATCHED_HEADER}.tmp "${vkfft_out}")
file(COPY_FILE ${VKFFT_PATCHED_HEADER}.tmp ${VKFFT_PATCHED_HEADER} ONLY_IF_DIFFERENT)
file(REMOVE ${VKFFT_PATCHED_HEADER}.tmp)

add_library(vkdream_vkfft INTERFACE)
# SYSTEM: the header's own warnings are not ours.
target_include_directories(vkdream_vkfft SYSTEM INTERFACE ${VKFFT_PATCHED_DIR})
target_compile_definitions(vkdream_vkfft INTERFACE VKFFT_BACKEND=0)
target_link_libraries(vkdream_vkfft INTERFACE
  glslang::glslang glslang::glslang-default-resource-limits glslang::SPIRV glslang::MachineIndependent
  glslang::OSDependent glslang::GenericCodeGen glslang::OGLCompiler SPIRV-Tools-opt SPIRV-Tools)
