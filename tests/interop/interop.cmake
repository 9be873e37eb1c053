# kktflow_add_interop_check(NAME FILE path [FIXTURES fixture...] [LABELS label...])
# Registers a CTest that runs tests/interop/check_run_file.py on a run file that another test
# writes (name that test's fixture in FIXTURES). The check needs Debian's python3 with h5py,
# xarray and h5netcdf; the pyenv python3 first on PATH usually lacks them, hence the fixed path.
set(KKTFLOW_INTEROP_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with h5py, xarray and h5netcdf")
execute_process(COMMAND ${KKTFLOW_INTEROP_PYTHON} -c "import h5py, xarray, h5netcdf"
  RESULT_VARIABLE _missing OUTPUT_QUIET ERROR_QUIET)
# A cache entry, not a variable: the function is called from other directories' scopes.
if(_missing)
  # No silent skip: a suite without its interop checks could not fail where users read files.
  message(FATAL_ERROR "${KKTFLOW_INTEROP_PYTHON} lacks h5py, xarray or h5netcdf: run `make deps` "
                      "(scripts/install-deps.sh) or set -DKKTFLOW_INTEROP_PYTHON=/path/to/python3")
else()
  set(KKTFLOW_INTEROP_AVAILABLE ON CACHE INTERNAL "")
endif()

function(kktflow_add_interop_check name)
  cmake_parse_arguments(I "" "FILE" "FIXTURES;LABELS" ${ARGN})
  if(NOT KKTFLOW_INTEROP_AVAILABLE)
    return()
  endif()
  add_test(NAME ${name}
    COMMAND ${KKTFLOW_INTEROP_PYTHON} ${PROJECT_SOURCE_DIR}/tests/interop/check_run_file.py ${I_FILE})
  set_tests_properties(${name} PROPERTIES LABELS "interop;${I_LABELS}")
  if(I_FIXTURES)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${I_FIXTURES}")
  endif()
endfunction()
