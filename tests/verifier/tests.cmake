# The headless-browser test of report.html (issue 6): render_report writes a
# sample report, test_html_chromium.sh opens it in Chromium (screenshot and
# DOM dump) and png_check checks that the screenshot shows a page. Included
# from tests/CMakeLists.txt; the script exits 77 (skipped) when
# /usr/bin/chromium is not installed.
add_executable(render_report ${CMAKE_CURRENT_LIST_DIR}/render_report.c)
target_link_libraries(render_report PRIVATE sc_verifier)

add_executable(png_check ${CMAKE_CURRENT_LIST_DIR}/png_check.c)
target_link_libraries(png_check PRIVATE PkgConfig::PNG)

add_test(NAME verifier/html_chromium
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/test_html_chromium.sh
                 $<TARGET_FILE:render_report> $<TARGET_FILE:png_check>)
set_tests_properties(verifier/html_chromium PROPERTIES
  TIMEOUT 300 SKIP_RETURN_CODE 77)
