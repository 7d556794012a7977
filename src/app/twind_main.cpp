#include "twind/app/cli.hpp"

int main(int argc, char** argv) {
  return twind::app::run_cli(argc, argv);
}
