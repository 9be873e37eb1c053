# The compiled module _kktflow (python/_kktflow.cpp): kktflow.run and kktflow.verify in-process,
# through the same library as the CLI (kktflow_app). In a build tree it sits in build/python,
# which the tests put on PYTHONPATH next to the source tree's python/; `cmake --install` puts it
# beside the package.
if(KKTFLOW_SANITIZER)
  return()  # a sanitized module cannot load into an uninstrumented Python
endif()
set(PYTHON_EXECUTABLE ${KKTFLOW_INTEROP_PYTHON})  # the Python the tests run, not PATH's first
find_package(pybind11 CONFIG)
if(NOT pybind11_FOUND)
  message(STATUS "kktflow: pybind11 not found; the Python package calls the kktflow executable instead")
  return()
endif()
pybind11_add_module(_kktflow ${PROJECT_SOURCE_DIR}/python/_kktflow.cpp)
target_link_libraries(_kktflow PRIVATE kktflow_app kktflow_flags)
target_compile_definitions(_kktflow PRIVATE KKTFLOW_VERSION="${PROJECT_VERSION}" KKTFLOW_GIT_COMMIT="${KKTFLOW_GIT_COMMIT}")
set_target_properties(_kktflow PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/python)
install(TARGETS _kktflow LIBRARY DESTINATION ${KKTFLOW_PYTHON_INSTALL_DIR})
