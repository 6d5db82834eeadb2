# tests/integration/deploy.cmake: checks on deploy/ (scripts, compose, systemd unit, Dockerfile,
# entrypoint) and the healthcheck, owned by "deploy". See deploy_static_test.py and
# deploy_runtime_test.py for what each test asserts.
include(${MB_INTEGRATION_DIR}/deploy_harness.cmake)

# Static checks need no binary: always registered.
foreach(check IN ITEMS ShellCheck Compose SystemdUnit SameScript)
  add_test(NAME deploy_${check}
           COMMAND ${MB_PYTHON3} ${MB_INTEGRATION_DIR}/deploy_static_test.py ${check}
           WORKING_DIRECTORY ${MB_INTEGRATION_DIR})
  set_tests_properties(deploy_${check} PROPERTIES
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1" LABELS "integration;deploy" TIMEOUT 300)
endforeach()
if(TARGET mailbridge)
  set_tests_properties(deploy_SystemdUnit PROPERTIES
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;MAILBRIDGE_BIN=$<TARGET_FILE:mailbridge>")
endif()

# Against the real binary (registered once the `mailbridge` target exists).
foreach(check IN ITEMS Entrypoint Healthcheck HarnessSmoke ExampleConfig MetricsScrape)
  mb_add_integration_test(NAME deploy_${check} SCRIPT deploy_runtime_test.py ARGS ${check}
                          NEEDS openssl LABELS deploy)
endforeach()
