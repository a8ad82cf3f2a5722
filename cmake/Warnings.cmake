# Warnings are a named list applied PRIVATE to our own targets (as fmt does),
# never through global CMAKE_CXX_FLAGS, so third-party headers stay quiet.
set(CHRONOCONF_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)

function(chronoconf_set_warnings target)
  target_compile_options(${target} PRIVATE ${CHRONOCONF_WARNINGS})
  if(CHRONOCONF_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
