# flags.cmake — included by the top-level CMakeLists.txt when BLASTSCAN_FUZZ is ON, before any
# target exists: every project source is compiled with libFuzzer's coverage instrumentation and
# ASan/UBSan, so the fuzzers see (and check) the readers' code, not only their own.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "BLASTSCAN_FUZZ needs clang: cmake -DCMAKE_C_COMPILER=clang -DBLASTSCAN_FUZZ=ON")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer -g
                    -Wno-pass-failed) # clang cannot honour every "omp simd" under ASan
add_link_options(-fsanitize=address,undefined)
# The usual libFuzzer convention: file checksums are not enforced (sae_file.c, pipeline_file.c),
# so mutated files get past them. Never defined outside this build.
add_compile_definitions(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
