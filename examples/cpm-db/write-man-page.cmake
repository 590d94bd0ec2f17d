# cmake -DTOOL=path/to/cpm-db -DOUTPUT=cpm-db.1 -P write-man-page.cmake
# Writes cpm-db's manual page, as the tool prints it with --help-man.
execute_process(COMMAND ${TOOL} --help-man OUTPUT_FILE ${OUTPUT}.tmp RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "cpm-db --help-man failed (${status})")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
