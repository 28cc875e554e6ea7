/*
 * The built-in environments' function tables. Each is defined in its own
 * file of lib/envs/, which sees nothing but the public interface: a
 * built-in environment is written exactly as a third-party one would be.
 */
#ifndef DQ_ENVS_H
#define DQ_ENVS_H

#include "distq.h"

extern const dq_env_ops dq__env_maze4x3;
extern const dq_env_ops dq__env_taxi;
extern const dq_env_ops dq__env_frozenlake4x4;
extern const dq_env_ops dq__env_frozenlake4x4_det;
extern const dq_env_ops dq__env_frozenlake8x8;
extern const dq_env_ops dq__env_frozenlake8x8_det;
extern const dq_env_ops dq__env_cliffwalking;
extern const dq_env_ops dq__env_cartpole;
extern const dq_env_ops dq__env_scalable;
extern const dq_env_ops dq__env_maxbias;
extern const dq_env_ops dq__env_mountaincar;
extern const dq_env_ops dq__env_acrobot;
extern const dq_env_ops dq__env_snake;

#endif /* DQ_ENVS_H */
