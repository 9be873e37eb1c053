# kktflow_add_interop_check(NAME FILE path [FIXTURES fixture...] [LABELS label...])
# Registers two CTests on a run file that another test writes (name that test's fixture in
# FIXTURES): NAME runs tests/interop/check_run_file.py (h5py reads every dataset, xarray names
# the dims), NAME_h5dump runs `h5dump -H` (HDF5's own tools read the header of every object).
# The check needs Debian's python3 with h5py, xarray and h5netcdf; the pyenv python3 first on
# PATH usually lacks them, hence the fixed path (KKTFLOW_INTEROP_PYTHON, set at the top level).
# h5dump comes with Debian's hdf5-tools.
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
find_program(KKTFLOW_H5DUMP h5dump)
if(NOT KKTFLOW_H5DUMP)
  message(FATAL_ERROR "h5dump not found: run `make deps` (scripts/install-deps.sh installs hdf5-tools) "
                      "or set -DKKTFLOW_H5DUMP=/path/to/h5dump")
endif()

function(kktflow_add_interop_check name)
  cmake_parse_arguments(I "" "FILE" "FIXTURES;LABELS" ${ARGN})
  if(NOT KKTFLOW_INTEROP_AVAILABLE)
    return()
  endif()
  add_test(NAME ${name}
    COMMAND ${KKTFLOW_INTEROP_PYTHON} ${PROJECT_SOURCE_DIR}/tests/interop/check_run_file.py ${I_FILE})
  # Exit 0 and a header that shows /trajectory: an empty or foreign file cannot pass.
  add_test(NAME ${name}_h5dump
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/cli/expect.sh 0 "GROUP \"trajectory\"" -- ${KKTFLOW_H5DUMP} -H ${I_FILE})
  set_tests_properties(${name} ${name}_h5dump PROPERTIES LABELS "interop;${I_LABELS}")
  if(I_FIXTURES)
    set_tests_properties(${name} ${name}_h5dump PROPERTIES FIXTURES_REQUIRED "${I_FIXTURES}")
  endif()
endfunction()
